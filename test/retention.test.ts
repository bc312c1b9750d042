import { retentionSuite } from './suites/retention.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) retentionSuite(vaultFactory(kind));

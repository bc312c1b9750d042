import { historySuite } from './suites/history.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) historySuite(vaultFactory(kind));

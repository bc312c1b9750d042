import { memorySuite } from './suites/memory.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) memorySuite(vaultFactory(kind));

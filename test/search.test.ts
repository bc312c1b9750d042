import { searchSuite } from './suites/search.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) searchSuite(vaultFactory(kind));

import { fsSuite } from './suites/fs.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) fsSuite(vaultFactory(kind));

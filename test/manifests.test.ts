import { manifestsSuite } from './suites/manifests.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) manifestsSuite(vaultFactory(kind));

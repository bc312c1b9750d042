import { tagsSuite } from './suites/tags.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

for (const kind of ENGINES) tagsSuite(vaultFactory(kind));

// vault.fs without loading the facade until it is first called: every CLI command makes a
// Vault, and most never use node:fs-style calls, so start-up should not parse them. Each method
// of the stand-in loads the facade once (import of vault-fs.js) and forwards to it; `constants`
// is node:fs's own and needs nothing loaded.
import { constants } from 'node:fs';
import type { VaultFs } from './vault-fs.js';

export function lazyFacade(load: () => Promise<VaultFs>): VaultFs {
  let facade: Promise<VaultFs> | undefined;
  const methods = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as VaultFs, {
    get(_, name) {
      if (name === 'constants') return constants;
      // Not a thenable: `await vault.fs` must give the facade itself.
      if (name === 'then' || typeof name === 'symbol') return undefined;
      let m = methods.get(name);
      if (!m) {
        m = async (...args: unknown[]) => {
          const f = await (facade ??= load());
          return (f[name as keyof VaultFs] as (...a: unknown[]) => Promise<unknown>)(...args);
        };
        methods.set(name, m);
      }
      return m;
    },
  });
}

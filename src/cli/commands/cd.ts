// cd / pwd: the working folder is kept per vault in $AVFS_HOME/state.json, so relative paths
// work across separate `avfs` calls (each call is its own process).
import type { Command, CommandModule } from '../context.js';
import { vfsError } from '../../errors.js';
import { setCwd } from '../../vault/registry.js';

const cd: Command = {
  usage: 'cd [PATH]',
  notes: ['No PATH: back to /. The folder must exist; symlinks on the way are resolved.'],
  flags: [],
  min: 0,
  max: 1,
  async run(ctx) {
    const vault = await ctx.vault();
    const st = await vault.stat(ctx.args[0] ?? '/');
    if (st.type !== 'directory') throw vfsError('ENOTDIR', st.path);
    setCwd(ctx.home, vault.path, st.path);
    if (ctx.json) await ctx.printJson({ cwd: st.path });
  },
};

const pwd: Command = {
  usage: 'pwd',
  flags: [],
  min: 0,
  max: 0,
  async run(ctx) {
    const vault = await ctx.vault();
    if (ctx.json) await ctx.printJson({ cwd: vault.cwd });
    else await ctx.print(vault.cwd + '\n');
  },
};

export const commands: CommandModule = { cd, pwd };

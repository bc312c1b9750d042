// import / export between the host and the vault, with a progress bar on a terminal and a
// summary line. The library does the planning and the refusals (never following a path
// outside the given folder); this is only the front end.
import type { TransferProgress, TransferResult } from '../../api/types.js';
import type { Command, CommandModule, Context } from '../context.js';
import { humanBytes, oneLine, plural } from '../output.js';
import { ProgressBar } from '../progress.js';
import { AT_FLAG, viewAt } from './point.js';

function progressFor(ctx: Context, label: string): ProgressBar | undefined {
  if (!ctx.err.isTTY || ctx.json || ctx.quiet) return undefined;
  return new ProgressBar({ write: (s) => void ctx.err.write(s) }, label);
}

function summary(verb: string, r: TransferResult): string {
  return `${verb} ${plural(r.files, 'file', 'files')}, ${plural(r.dirs, 'folder', 'folders')}, ${plural(r.symlinks, 'symlink', 'symlinks')} (${humanBytes(r.bytes)})`;
}

async function run(
  ctx: Context,
  label: string,
  work: (onProgress?: (p: TransferProgress) => void) => Promise<TransferResult & { skipped?: string[]; skippedLinks?: number }>,
  outside = '',
): Promise<void> {
  const bar = progressFor(ctx, label);
  let result;
  try {
    result = await work(bar ? (p) => bar.update(p) : undefined);
  } finally {
    bar?.clear();
  }
  for (const s of result.skipped ?? []) await ctx.warn(`skipped ${s}: not a file, folder or symlink`);
  if (result.skippedLinks && !ctx.json) await ctx.warn(`skipped ${plural(result.skippedLinks, 'symlink', 'symlinks')} pointing outside ${oneLine(outside)}`);
  if (ctx.json) await ctx.printJson(result);
  else await ctx.note(summary(label === 'importing' ? 'imported' : 'exported', result));
}

const importCmd: Command = {
  usage: 'import [-r] HOST_PATH VAULT_PATH',
  notes: [
    'A folder\'s contents land at VAULT_PATH; a file imported onto an existing folder goes inside it.',
    'Host symlinks are stored as symlinks (targets kept verbatim), never followed; sockets, FIFOs and',
    'devices are skipped with a warning. Modes and modification times are kept.',
  ],
  flags: [
    { key: 'recursive', short: 'r', long: 'recursive', help: 'import a folder and everything in it' },
    { key: 'recursive', short: 'R', help: 'same as -r' },
  ],
  min: 2,
  max: 2,
  async run(ctx) {
    const vault = await ctx.vault();
    const [host, path] = ctx.args;
    await run(ctx, 'importing', (onProgress) => vault.importFrom(host, path, { recursive: ctx.flags.bool('recursive'), onProgress }));
  },
};

const exportCmd: Command = {
  usage: 'export [-r] [--safe-links] [--at POINT] VAULT_PATH HOST_PATH',
  notes: [
    'A folder\'s contents land at HOST_PATH. Symlinks are written as symlinks with their targets',
    'verbatim (as tar and cp -a do), never followed. Nothing is written through a host symlink or',
    'outside HOST_PATH: a host symlink on the way, or a folder where a file goes, is refused before',
    'anything is written. Files already there are replaced. Modes and times are kept.',
  ],
  flags: [
    { key: 'recursive', short: 'r', long: 'recursive', help: 'export a folder and everything in it' },
    { key: 'recursive', short: 'R', help: 'same as -r' },
    { key: 'safeLinks', long: 'safe-links', help: 'skip symlinks with an absolute target or one leading outside the exported folder (count on stderr)' },
    AT_FLAG,
  ],
  min: 2,
  max: 2,
  async run(ctx) {
    const vault = await ctx.vault();
    const [path, host] = ctx.args;
    const recursive = ctx.flags.bool('recursive');
    const safeLinks = ctx.flags.bool('safeLinks');
    const at = ctx.flags.str('at');
    if (at !== undefined) {
      // The past tree, read through the view; the same planning and refusals as a normal export.
      const view = await viewAt(ctx, at);
      const { exportTree } = await import('../../api/transfer.js');
      await run(ctx, 'exporting', (onProgress) => exportTree(view, path, host, { recursive, safeLinks, onProgress }), host);
      return;
    }
    await run(ctx, 'exporting', (onProgress) => vault.exportTo(path, host, { recursive, safeLinks, onProgress }), host);
  },
};

export const commands: CommandModule = { import: importCmd, export: exportCmd };

// The `avfs` entry point: global flags, then the command, whose module is loaded only now
// (start-up time is a measured target: `avfs cat` must stay close to a bare `node`), then the
// command's own flags, then one run with one Context. Every failure ends as one line on stderr
// (or one JSON object on stdout with --json) and exit code 1, or 2 for a usage error.
import { isatty } from 'node:tty';
import { readFileSync } from 'node:fs';
import { parseArgs, usageError, Flags, type FlagDef } from './args.js';
import { COMMANDS, isGroup } from './commands/index.js';
import type { Command, CommandGroup, Context } from './context.js';
import { reportError, streamWriter, type Writer } from './output.js';
import { avfsHome } from '../vault/home.js';
import type { Vault } from '../api/vault.js';

export const GLOBAL_FLAGS: FlagDef[] = [
  { key: 'vault', long: 'vault', value: 'NAME|PATH', help: 'use this vault (a registered name or a path) instead of the current one' },
  { key: 'json', long: 'json', help: 'print results (and errors) as JSON on stdout' },
  { key: 'quiet', long: 'quiet', short: 'q', help: 'no confirmations, summaries or progress (data is still printed)' },
  { key: 'actor', long: 'actor', value: 'NAME', help: 'who to record in the operation log (default: $AVFS_ACTOR, else your user name)' },
  { key: 'help', long: 'help', short: 'h', help: 'show help' },
  { key: 'version', long: 'version', short: 'V', help: 'print the version' },
];

export interface MainIO {
  stdout: Writer;
  stderr: Writer;
  stdin: NodeJS.ReadableStream;
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** The process's own streams for whatever the caller did not supply. */
function withDefaults(io: Partial<MainIO> = {}): MainIO {
  return {
    stdout: io.stdout ?? streamWriter(process.stdout),
    stderr: io.stderr ?? streamWriter(process.stderr),
    // process.stdin is created on first use only: most commands never read it.
    get stdin() {
      return io.stdin ?? process.stdin;
    },
    stdinIsTTY: io.stdinIsTTY ?? isatty(0),
    env: io.env ?? process.env,
  };
}

function version(): string {
  // Found by walking up from this file: it runs from dist/src/cli (tsc) or dist/cli (the bundle).
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'agentvfs') return pkg.version;
    } catch {
      // not here; look one folder up
    }
  }
  return 'unknown';
}

/** Run one `avfs` command line; resolves to the exit code. */
export async function main(argv: readonly string[], ioIn?: Partial<MainIO>): Promise<number> {
  const io = withDefaults(ioIn);
  const { stdout: out, stderr: err, env } = io;
  const debug = !!env.AVFS_DEBUG;
  // Known before parsing, so that even a usage error comes out as JSON when asked.
  const dash = argv.indexOf('--');
  let json = (dash < 0 ? argv : argv.slice(0, dash)).includes('--json');
  let vault: Vault | undefined;
  let code = 0;
  try {
    const flags = new Flags();
    const globalSpec = { flags: GLOBAL_FLAGS, min: 0, max: Infinity };
    const { rest } = parseArgs(argv, globalSpec, '', { stopAtPositional: true, flags });
    const printVersion = (): Promise<void> => out.write(json ? JSON.stringify({ version: version() }) + '\n' : `avfs ${version()}\n`);
    if (flags.bool('version')) {
      await printVersion();
      return 0;
    }
    const help = (): Promise<typeof import('./help.js')> => import('./help.js');
    if (rest.length === 0) {
      if (flags.bool('help')) {
        await out.write((await help()).overview(GLOBAL_FLAGS));
        return 0;
      }
      await err.write((await help()).overview(GLOBAL_FLAGS));
      return 2;
    }
    const name = rest[0];
    if (name === 'help') return await (await help()).helpFor(rest.slice(1), GLOBAL_FLAGS, out);
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) throw usageError(`unknown command "${name}" (see avfs --help)`);
    // Start loading the library while the command's module loads.
    const api = import('../api/open.js');
    api.catch(() => {});
    const mod = await entry.load();
    const found = mod[name];
    let words = name;
    let cmd: Command;
    let args = rest.slice(1);
    if (isGroup(found)) {
      const group: CommandGroup = found;
      const r = parseArgs(args, globalSpec, name, { stopAtPositional: true, flags });
      if (r.rest.length === 0) {
        if (flags.bool('help')) {
          await out.write((await help()).groupHelp(name, group, entry.summary, GLOBAL_FLAGS));
          return 0;
        }
        throw usageError(`${name}: missing subcommand: ${Object.keys(group.sub).join(', ')} (see avfs ${name} --help)`);
      }
      const subName = r.rest[0];
      if (!Object.hasOwn(group.sub, subName)) throw usageError(`${name}: unknown subcommand "${subName}" (see avfs ${name} --help)`);
      cmd = group.sub[subName];
      words = `${name} ${subName}`;
      args = r.rest.slice(1);
      if (group.noAt) {
        const end = args.indexOf('--');
        if ((end < 0 ? args : args.slice(0, end)).some((a) => a === '--at' || a.startsWith('--at='))) throw usageError(`${words}: ${group.noAt}`);
      }
    } else {
      cmd = found;
    }
    // The command's own flags come last so they win a name clash after the command word:
    // `cat --version N` is cat's version flag, `audit --actor NAME` audit's filter (before the
    // command word, the global meaning holds).
    const parsed = parseArgs(args, { flags: [...GLOBAL_FLAGS, ...cmd.flags], min: cmd.min, max: cmd.max }, words, { flags });
    json = flags.bool('json');
    if (flags.bool('help')) {
      await out.write((await help()).commandHelp(cmd, cmd.summary ?? entry.summary, GLOBAL_FLAGS));
      return 0;
    }
    if (flags.bool('version')) {
      await printVersion();
      return 0;
    }
    const home = avfsHome(env);
    const quiet = flags.bool('quiet');
    let failed = false;
    const ctx: Context = {
      args: parsed.args,
      flags,
      json,
      quiet,
      home,
      vaultRef: flags.str('vault'),
      actor: flags.str('actor'),
      env,
      out,
      err,
      get stdin() {
        return io.stdin;
      },
      stdinIsTTY: io.stdinIsTTY,
      async vault() {
        if (!vault) {
          const { openVault } = await api;
          const { withPassphrase } = await import('./passphrase.js');
          vault = await withPassphrase(ctx, (passphrase) =>
            openVault(flags.str('vault'), { restoreCwd: true, home, passphrase, ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}) }),
          );
        }
        return vault;
      },
      print: (text) => out.write(text),
      note: (text) => (quiet || json ? Promise.resolve() : out.write(text.endsWith('\n') ? text : text + '\n')),
      printJson: (value) => out.write(JSON.stringify(value) + '\n'),
      warn: (text) => err.write(`avfs: warning: ${text}\n`),
      async fail(...e: unknown[]) {
        failed = true;
        if (e.length === 0) return;
        const c = await reportError(e[0], { out, err, json, debug });
        code = Math.max(code, c);
      },
      get failed() {
        return failed;
      },
      setExitCode(n: number) {
        failed = true;
        code = Math.max(code, n);
      },
    };
    await cmd.run(ctx);
    if (failed && code === 0) code = 1;
  } catch (e) {
    code = await reportError(e, { out, err, json, debug });
  } finally {
    if (vault) {
      try {
        await vault.close();
      } catch (e) {
        code = Math.max(code, await reportError(e, { out, err, json, debug }));
      }
    }
  }
  return code;
}

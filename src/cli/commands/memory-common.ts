// What the agent-memory commands (memory, kv, session, stream, state) share: input from an
// argument or stdin, time flags, and how a long-running command (stream cat -f, state watch)
// learns that it should stop.
import { usageError } from '../args.js';
import type { Context } from '../context.js';

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/**
 * The data a command takes: its argument, or stdin with --stdin (or when no argument is given
 * and stdin is not a terminal), as `write` does.
 */
export async function inputBytes(ctx: Context, arg: string | undefined, what: string, name: string): Promise<Buffer> {
  const fromStdin = ctx.flags.bool('stdin');
  if (fromStdin && arg !== undefined) throw usageError(`${what}: give ${name} or --stdin, not both`);
  if (arg !== undefined) return Buffer.from(arg);
  if (!fromStdin && ctx.stdinIsTTY) throw usageError(`${what}: no ${name} given and stdin is a terminal (pass ${name}, or pipe it in with --stdin)`);
  return readAll(ctx.stdin);
}

/** Agent memory's answer to --at (docs/memory.md, "History"). */
export const NO_AT = 'agent memory has no history, so --at does not apply to it (save it with a snapshot: avfs snapshot save --with-memory NAME; snapshot restore NAME brings it back)';

export const STDIN_FLAG = { key: 'stdin', long: 'stdin', help: 'read it from stdin' };
export const TAG_FLAG = { key: 'tag', long: 'tag', short: 't', value: 'TAG', multi: true };

export function limitFlag(ctx: Context, what: string): number | undefined {
  const n = ctx.flags.int('limit');
  if (n === 0) throw usageError(`${what}: --limit must be at least 1`);
  return n;
}

export async function sinceFlag(ctx: Context, what: string): Promise<number | undefined> {
  const since = ctx.flags.str('since');
  if (since === undefined) return undefined;
  const { parseTime } = await import('../../history/at.js');
  const t = parseTime(since);
  if (t === undefined) throw usageError(`${what}: --since: "${since}" is not a time (ISO 8601 like 2026-01-31T12:00, or 10m / 2h / 3d / 1w ago)`);
  return t;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A signal for commands that run until stopped: aborted on SIGINT, SIGTERM or SIGHUP (the
 * command then ends normally, closing the vault), or when the reader of stdout goes away.
 */
export function untilStopped(ctx: Context): { signal: AbortSignal; stopped(): boolean; dispose(): void } {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, stop);
  return {
    signal: ac.signal,
    stopped: () => {
      if (ctx.out.closed) ac.abort();
      return ac.signal.aborted;
    },
    dispose: () => {
      for (const s of sigs) process.off(s, stop);
    },
  };
}

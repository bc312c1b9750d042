// kv set | get | del | list: byte values under string keys, with a time to live and
// compare-and-set.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import type { KvInfo } from '../../api/memory.js';
import { usageError } from '../args.js';
import { oneLine } from '../output.js';
import { STDIN_FLAG, inputBytes, iso, NO_AT } from './memory-common.js';

const IF_VERSION = { key: 'ifVersion', long: 'if-version', value: 'N', int: true, help: 'only if the key\'s version is N (0: only if it does not exist); else ECONFLICT' };

function infoJson(i: KvInfo): Record<string, unknown> {
  return { ...i, updated: iso(i.updatedMs), ...(i.expiresMs !== undefined ? { expires: iso(i.expiresMs) } : {}) };
}

const set: Command = {
  usage: 'kv set [--ttl SECONDS] [--if-version N] [--stdin] KEY [VALUE]',
  summary: 'set KEY to VALUE (bytes); prints nothing, --json: {key, version, size, ...}',
  notes: [
    'VALUE comes from the argument, or from stdin (--stdin, or no VALUE and stdin not a terminal),',
    'byte for byte. A key\'s version is the operation number that last wrote it: it only grows, also',
    'across a delete, so --if-version N is a safe compare-and-set. KEY: 1-400 bytes, no NUL.',
  ],
  flags: [
    { key: 'ttl', long: 'ttl', value: 'SECONDS', int: true, help: 'the key expires SECONDS from now (reads no longer see it; it is deleted later)' },
    IF_VERSION,
    { ...STDIN_FLAG, help: 'read VALUE from stdin' },
  ],
  min: 1,
  max: 2,
  async run(ctx: Context) {
    const ttl = ctx.flags.int('ttl');
    if (ttl === 0) throw usageError('kv set: --ttl must be at least 1 second');
    const [key, arg] = ctx.args;
    const value = await inputBytes(ctx, arg, 'kv set', 'VALUE');
    const vault = await ctx.vault();
    const ifVersion = ctx.flags.int('ifVersion');
    const info = await vault.kvSet(key, value, { ...(ttl ? { ttlSeconds: ttl } : {}), ...(ifVersion !== undefined ? { ifVersion } : {}) });
    if (ctx.json) await ctx.printJson(infoJson(info));
    else await ctx.note(`set ${oneLine(key)} (version ${info.version})`);
  },
};

const get: Command = {
  usage: 'kv get KEY',
  summary: 'print a key\'s value, byte for byte',
  notes: ['An expired key is gone (ENOENT). --json: {key, value, encoding (utf8 or base64), version, size, updatedMs, expiresMs?}.'],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const e = await vault.kvGet(ctx.args[0]);
    if (ctx.json) {
      const { encodeValue } = await import('../../memory/common.js');
      const { value, ...info } = e;
      await ctx.printJson({ ...infoJson(info), ...encodeValue(value) });
    } else {
      await ctx.out.write(e.value);
    }
  },
};

const del: Command = {
  usage: 'kv del [--if-version N] KEY',
  summary: 'delete a key',
  flags: [IF_VERSION],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const ifVersion = ctx.flags.int('ifVersion');
    const info = await vault.kvDelete(ctx.args[0], ifVersion !== undefined ? { ifVersion } : {});
    if (ctx.json) await ctx.printJson({ ok: true, deleted: info.key, version: info.version });
    else await ctx.note(`deleted ${oneLine(info.key)}`);
  },
};

const list: Command = {
  usage: 'kv list [-l] [PREFIX]',
  summary: 'keys (with PREFIX), in key order, one per line',
  notes: ['-l: KEY  SIZE  VERSION  EXPIRES. --json: [{key, version, size, updatedMs, expiresMs?}].'],
  flags: [{ key: 'long', short: 'l', long: 'long', help: 'also size, version and expiry' }],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const keys = await vault.kvList(ctx.args[0]);
    if (ctx.json) {
      await ctx.printJson(keys.map(infoJson));
      return;
    }
    const show = (k: string): string => (ctx.out.isTTY ? oneLine(k) : k);
    if (!ctx.flags.bool('long')) {
      await ctx.print(keys.map((k) => `${show(k.key)}\n`).join(''));
      return;
    }
    const w = Math.max(0, ...keys.map((k) => show(k.key).length));
    const sw = Math.max(0, ...keys.map((k) => String(k.size).length));
    await ctx.print(
      keys.map((k) => `${show(k.key).padEnd(w)}  ${String(k.size).padStart(sw)}  v${k.version}  ${k.expiresMs !== undefined ? `expires ${iso(k.expiresMs)}` : '-'}\n`).join(''),
    );
  },
};

const sweep: Command = {
  usage: 'kv sweep',
  summary: 'delete every expired key now; prints how many (--json: {removed})',
  notes: ['Expired keys are already invisible to every read; kv writes delete up to 100 of them each. This deletes all of them.'],
  flags: [],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const removed = await vault.kvSweep();
    if (ctx.json) await ctx.printJson({ removed });
    else await ctx.note(`removed ${removed} expired ${removed === 1 ? 'key' : 'keys'}`);
  },
};

export const kv: CommandGroup = {
  noAt: NO_AT,
  usage: 'kv set|get|del|list|sweep',
  notes: ['Values are bytes (up to memory_max_value_kb, default 1024 KiB). Every change is in `avfs audit`.'],
  sub: { set, get, del, list, sweep },
};

export const commands: CommandModule = { kv };

// A small declarative argument parser. Each command declares its flags (with their help text,
// so usage and help come from one place); the parser knows the usual conventions:
//   -lR          combined short flags;  -L2 / -L 2  a short flag's value, glued or next
//   --long=v     --long v               a long flag's value
//   -name GLOB   GNU find's single-dash long flags (declared with `single`)
//   -mtime -7    the token after a flag that takes a value is its value, even if it starts with '-'
//   --op a --op b  a flag declared `multi` accumulates its values; any other flag: the last wins
//   --           ends the flags; '-' alone is an ordinary argument
// Anything unknown, a missing value or a bad value is a usage error (exit 2).
import { VfsError } from '../errors.js';

export interface FlagDef {
  /** Property name in the parsed flags. */
  key: string;
  /** `--long`. */
  long?: string;
  /** `-s` (one character). */
  short?: string;
  /** `-name`: a single-dash long flag, as GNU find has them. */
  single?: string;
  /** Placeholder for the value (e.g. 'N', 'GLOB'); present when the flag takes a value. */
  value?: string;
  /** Value must be a non-negative integer. */
  int?: boolean;
  /** Accepted values. */
  choices?: readonly string[];
  /** May be given more than once: the values accumulate (read them with `list`/`ints`). */
  multi?: boolean;
  help: string;
}

export interface ArgsSpec {
  flags: readonly FlagDef[];
  /** Positional arguments: at least `min`, at most `max`. */
  min: number;
  max: number;
}

export type FlagValue = string | number | boolean | (string | number)[];

/** Parsed flags with typed getters. */
export class Flags {
  constructor(readonly values: Map<string, FlagValue> = new Map()) {}
  bool(key: string): boolean {
    return this.values.get(key) === true;
  }
  str(key: string): string | undefined {
    const v = this.values.get(key);
    return typeof v === 'string' ? v : undefined;
  }
  int(key: string): number | undefined {
    const v = this.values.get(key);
    return typeof v === 'number' ? v : undefined;
  }
  /** Every value of a repeatable (`multi`) string flag, in the order given. */
  list(key: string): string[] {
    const v = this.values.get(key);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
  }
  /** Every value of a repeatable (`multi`) integer flag, in the order given. */
  ints(key: string): number[] {
    const v = this.values.get(key);
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : typeof v === 'number' ? [v] : [];
  }
  has(key: string): boolean {
    return this.values.has(key);
  }
}

export interface Parsed {
  flags: Flags;
  args: string[];
}

export function usageError(message: string): VfsError {
  return new VfsError('EUSAGE', message);
}

/** How a flag is written in messages and help: `-l, --long`, `-name GLOB`. */
export function flagLabel(f: FlagDef): string {
  const names: string[] = [];
  if (f.short) names.push(`-${f.short}`);
  if (f.single) names.push(`-${f.single}`);
  if (f.long) names.push(`--${f.long}`);
  return names.join(', ') + (f.value ? ` ${f.value}` : '');
}

function setValue(f: FlagDef, raw: string, label: string, out: Map<string, FlagValue>, what: string): void {
  if (what) label = `${what}: ${label}`;
  const put = (v: string | number): void => {
    if (!f.multi) {
      out.set(f.key, v);
      return;
    }
    const prev = out.get(f.key);
    out.set(f.key, Array.isArray(prev) ? [...prev, v] : [v]);
  };
  if (f.int) {
    if (!/^\d+$/.test(raw)) throw usageError(`${label}: expected a non-negative integer, got "${raw}"`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw usageError(`${label}: number too large: ${raw}`);
    put(n);
    return;
  }
  if (f.choices && !f.choices.includes(raw)) {
    throw usageError(`${label}: expected one of ${f.choices.join(', ')}, got "${raw}"`);
  }
  put(raw);
}

/**
 * Parse `argv` against `spec`. `what` names the command in messages ("ls", "vault create").
 * With `stopAtPositional`, parsing stops at the first positional argument and the rest is
 * returned untouched in `rest` (used to find the command name among global flags).
 */
export function parseArgs(
  argv: readonly string[],
  spec: ArgsSpec,
  what: string,
  opts: { stopAtPositional?: boolean; flags?: Flags } = {},
): Parsed & { rest: string[] } {
  const values = opts.flags?.values ?? new Map<string, FlagValue>();
  const args: string[] = [];
  const byLong = new Map<string, FlagDef>();
  const byShort = new Map<string, FlagDef>();
  const bySingle = new Map<string, FlagDef>();
  for (const f of spec.flags) {
    if (f.long) byLong.set(f.long, f);
    if (f.short) byShort.set(f.short, f);
    if (f.single) bySingle.set(f.single, f);
  }
  const hint = what ? ` (see avfs ${what} --help)` : ' (see avfs --help)';
  const unknown = (tok: string): VfsError => usageError(`${what ? what + ': ' : ''}unknown flag ${tok}${hint}`);
  const needValue = (f: FlagDef, label: string, i: number): string => {
    if (i >= argv.length) throw usageError(`${what ? what + ': ' : ''}${label} needs a value (${f.value})`);
    return argv[i];
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === '--') {
      if (opts.stopAtPositional) break;
      args.push(...argv.slice(i + 1));
      i = argv.length;
      break;
    }
    // Only '-x…' and '--x…' with a letter are flags: '-', '- item', '-5' and '--' + digits are
    // words (content like a markdown list item must not need `--` in front of it).
    if (!/^--?[A-Za-z]/.test(tok)) {
      if (opts.stopAtPositional) break;
      args.push(tok);
      continue;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      const f = byLong.get(name);
      if (!f) throw unknown(eq < 0 ? tok : tok.slice(0, eq));
      const label = `--${name}`;
      if (f.value) {
        setValue(f, eq < 0 ? needValue(f, label, ++i) : tok.slice(eq + 1), label, values, what);
      } else {
        if (eq >= 0) throw usageError(`${what ? what + ': ' : ''}${label} takes no value`);
        values.set(f.key, true);
      }
      continue;
    }
    const single = bySingle.get(tok.slice(1));
    if (single) {
      if (single.value) setValue(single, needValue(single, tok, ++i), tok, values, what);
      else values.set(single.key, true);
      continue;
    }
    // Combined short flags: -lR, -L2, -aL 2.
    for (let k = 1; k < tok.length; k++) {
      const f = byShort.get(tok[k]);
      if (!f) throw unknown(k === 1 && tok.length === 2 ? tok : `-${tok[k]} (in ${tok})`);
      const label = `-${tok[k]}`;
      if (!f.value) {
        values.set(f.key, true);
        continue;
      }
      const glued = tok.slice(k + 1);
      setValue(f, glued.length > 0 ? glued : needValue(f, label, ++i), label, values, what);
      break;
    }
  }
  const rest = opts.stopAtPositional ? argv.slice(i) : [];
  // `avfs cp --help` (or -V) answers even though cp's arguments are missing.
  if (!opts.stopAtPositional && values.get('help') !== true && values.get('version') !== true) {
    if (args.length < spec.min) throw usageError(`${what}: missing argument${hint}`);
    if (args.length > spec.max) throw usageError(`${what}: too many arguments: ${args.slice(spec.max).join(' ')}${hint}`);
  }
  return { flags: new Flags(values), args, rest };
}

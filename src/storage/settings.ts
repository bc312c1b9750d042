// Reading an engine's [backend.NAME] section. Values come from TOML (numbers, bigints, strings,
// booleans); a wrong one is reported with the key the user wrote, so the message points at the
// line to fix.
import { vfsError } from '../errors.js';

export class SettingsReader {
  private used = new Set<string>();
  constructor(
    private section: string,
    private raw: Record<string, unknown> = {},
  ) {}

  private bad(key: string, want: string): never {
    throw vfsError('EINVAL', undefined, `${this.section}.${key} must be ${want}, got ${JSON.stringify(String(this.raw[key]))}`);
  }

  private take(key: string): unknown {
    this.used.add(key);
    return this.raw[key];
  }

  oneOf<T extends string>(key: string, choices: readonly T[], dflt: T): T {
    const v = this.take(key);
    if (v === undefined) return dflt;
    const s = typeof v === 'string' ? v.toLowerCase() : v;
    if (!choices.includes(s as T)) this.bad(key, `one of ${choices.join(', ')}`);
    return s as T;
  }

  int(key: string, dflt: number, min = -Infinity): number {
    const v = this.take(key);
    if (v === undefined) return dflt;
    const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) this.bad(key, `an integer${min > -Infinity ? ` >= ${min}` : ''}`);
    return n;
  }

  /** A byte count: a number, or a string such as "512MiB", "4 GB", "65536". */
  bytes(key: string, dflt: number): number {
    const v = this.take(key);
    if (v === undefined) return dflt;
    if (typeof v === 'number' || typeof v === 'bigint') {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) this.bad(key, 'a size in bytes');
      return n;
    }
    const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(v) : null;
    if (!m) this.bad(key, 'a size such as 65536, "64MiB" or "2GB"');
    const base = m[3] ? 1024 : 1000;
    const power = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
    return Math.round(Number(m[1]) * base ** power);
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.take(key);
    if (v === undefined) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.bad(key, 'true or false');
  }

  /** Call after reading every known key: a typo should not silently fall back to a default. */
  done(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.used.has(key)) {
        throw vfsError('EINVAL', undefined, `unknown setting ${this.section}.${key}`);
      }
    }
  }
}

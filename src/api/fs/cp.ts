// cp(): Node's own algorithm (lib/internal/fs/cp/cp.js), step for step, over the facade's calls,
// so that its checks, its errors and its quirks are Node's: a symlink copied without
// `verbatimSymlinks` points at its target as an absolute path, a folder copied onto a file is
// ERR_FS_CP_DIR_TO_NON_DIR, a missing source fails in lstat. Loaded on first use.
import { dirname, isAbsolute, join, parse } from 'node:path/posix';
import { checkBoolean, checkObject, pathArg, smallModeArg } from './args.js';
import { codedError, invalidArgType, NodeSystemError } from './errors.js';
import type { VaultStats } from './stats.js';
import type { VaultFs } from './vault-fs.js';

export interface CpOptions {
  dereference?: boolean;
  errorOnExist?: boolean;
  filter?: (src: string, dest: string) => boolean | Promise<boolean>;
  force?: boolean;
  mode?: number;
  preserveTimestamps?: boolean;
  recursive?: boolean;
  verbatimSymlinks?: boolean;
}

type Opts = Required<Omit<CpOptions, 'filter'>> & Pick<CpOptions, 'filter'>;

const DEFAULTS: Opts = { dereference: false, errorOnExist: false, filter: undefined, force: true, mode: 0, preserveTimestamps: false, recursive: false, verbatimSymlinks: false };

function checkOptions(options: unknown): Opts {
  if (options === undefined) return { ...DEFAULTS };
  checkObject(options, 'options');
  const o = { ...DEFAULTS, ...(options as CpOptions) };
  for (const k of ['dereference', 'errorOnExist', 'force', 'preserveTimestamps', 'recursive', 'verbatimSymlinks'] as const) checkBoolean(o[k], `options.${k}`);
  o.mode = smallModeArg(o.mode);
  if (o.dereference && o.verbatimSymlinks) {
    throw codedError('TypeError', 'ERR_INCOMPATIBLE_OPTION_PAIR', 'Option "dereference" cannot be used in combination with option "verbatimSymlinks"');
  }
  if (o.filter !== undefined && typeof o.filter !== 'function') throw invalidArgType('options.filter', 'Function', o.filter);
  return o;
}

/** `resolve` makes a path absolute against the vault's working folder (path.resolve's part). */
export async function cp(fs: VaultFs, resolve: (p: string) => string, src: unknown, dest: unknown, options: unknown): Promise<void> {
  const opts = checkOptions(options);
  const s = pathArg(src, 'src');
  const d = pathArg(dest, 'dest');
  return new Copier(fs, resolve, opts).run(s, d);
}

class Copier {
  constructor(
    private readonly fs: VaultFs,
    private readonly resolve: (p: string) => string,
    private readonly opts: Opts,
  ) {}

  private statOf(p: string): Promise<VaultStats> {
    return (this.opts.dereference ? this.fs.stat(p) : this.fs.lstat(p)) as Promise<VaultStats>;
  }

  async run(src: string, dest: string): Promise<void> {
    const r = await this.checkPaths(src, dest);
    if (r.skipped) return;
    await this.checkParentPaths(src, r.srcStat, dest);
    const destParent = dirname(dest);
    const exists = await this.fs.stat(destParent).then(
      () => true,
      (e: { code?: string }) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
    );
    if (!exists) await this.fs.mkdir(destParent, { recursive: true });
    return this.copyEntry(r.destStat, src, dest);
  }

  private async checkPaths(src: string, dest: string): Promise<{ skipped: true; srcStat?: undefined; destStat?: undefined } | { skipped: false; srcStat: VaultStats; destStat: VaultStats | null }> {
    if (this.opts.filter && !(await this.opts.filter(src, dest))) return { skipped: true };
    const [srcStat, destStat] = await Promise.all([
      this.statOf(src),
      this.statOf(dest).catch((e: { code?: string }) => (e.code === 'ENOENT' ? null : Promise.reject(e))),
    ]);
    if (destStat) {
      if (identical(srcStat, destStat)) throw this.fail('ERR_FS_CP_EINVAL', 'EINVAL', 'src and dest cannot be the same', dest);
      if (srcStat.isDirectory() && !destStat.isDirectory()) {
        throw this.fail('ERR_FS_CP_DIR_TO_NON_DIR', 'EISDIR', `cannot overwrite non-directory ${dest} with directory ${src}`, dest);
      }
      if (!srcStat.isDirectory() && destStat.isDirectory()) {
        throw this.fail('ERR_FS_CP_NON_DIR_TO_DIR', 'ENOTDIR', `cannot overwrite directory ${dest} with non-directory ${src}`, dest);
      }
    }
    if (srcStat.isDirectory() && this.isSubdir(src, dest)) throw this.fail('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
    return { skipped: false, srcStat, destStat };
  }

  private fail(code: ConstructorParameters<typeof NodeSystemError>[0], errCode: 'EINVAL' | 'EISDIR' | 'ENOTDIR' | 'EEXIST', message: string, path: string): NodeSystemError {
    return new NodeSystemError(code, { code: errCode, message, path, syscall: 'cp' });
  }

  /** Is dest below src, by path text (after resolving both)? */
  private isSubdir(src: string, dest: string): boolean {
    const a = this.resolve(src).split('/').filter(Boolean);
    const b = this.resolve(dest).split('/').filter(Boolean);
    return a.every((cur, i) => b[i] === cur);
  }

  private async checkParentPaths(src: string, srcStat: VaultStats, dest: string): Promise<void> {
    const srcParent = this.resolve(dirname(src));
    const destParent = this.resolve(dirname(dest));
    if (destParent === srcParent || destParent === parse(destParent).root) return;
    let destStat: VaultStats;
    try {
      destStat = (await this.fs.stat(destParent)) as VaultStats;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return;
      throw e;
    }
    if (identical(srcStat, destStat)) throw this.fail('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
    return this.checkParentPaths(src, srcStat, destParent);
  }

  private async copyEntry(destStat: VaultStats | null, src: string, dest: string): Promise<void> {
    const srcStat = await this.statOf(src);
    if (srcStat.isDirectory() && this.opts.recursive) return this.onDir(srcStat, destStat, src, dest);
    if (srcStat.isDirectory()) {
      throw new NodeSystemError('ERR_FS_EISDIR', { code: 'EISDIR', message: `${src} is a directory (not copied)`, path: src, syscall: 'cp' });
    }
    if (srcStat.isFile()) return this.onFile(srcStat, destStat, src, dest);
    return this.onLink(destStat, src, dest);
  }

  private async onFile(srcStat: VaultStats, destStat: VaultStats | null, src: string, dest: string): Promise<void> {
    if (destStat) {
      if (this.opts.force) {
        await this.fs.unlink(dest);
      } else {
        if (this.opts.errorOnExist) throw this.fail('ERR_FS_CP_EEXIST', 'EEXIST', `${dest} already exists`, dest);
        return;
      }
    }
    await this.fs.copyFile(src, dest, this.opts.mode);
    if (this.opts.preserveTimestamps) {
      const st = await this.fs.stat(src);
      await this.fs.utimes(dest, st.atime, st.mtime);
    }
    await this.fs.chmod(dest, srcStat.mode);
  }

  private async onDir(srcStat: VaultStats, destStat: VaultStats | null, src: string, dest: string): Promise<void> {
    if (!destStat) await this.fs.mkdir(dest);
    for (const name of (await this.fs.readdir(src)) as string[]) {
      const srcItem = join(src, name);
      const destItem = join(dest, name);
      const r = await this.checkPaths(srcItem, destItem);
      if (!r.skipped) await this.copyEntry(r.destStat, srcItem, destItem);
    }
    if (!destStat) await this.fs.chmod(dest, srcStat.mode);
  }

  private async onLink(destStat: VaultStats | null, src: string, dest: string): Promise<void> {
    let resolvedSrc = await this.fs.readlink(src);
    if (!this.opts.verbatimSymlinks && !isAbsolute(resolvedSrc)) resolvedSrc = this.resolve(join(dirname(src), resolvedSrc));
    if (!destStat) return this.fs.symlink(resolvedSrc, dest);
    let resolvedDest: string;
    try {
      resolvedDest = await this.fs.readlink(dest);
    } catch (e) {
      if ((e as { code?: string }).code === 'EINVAL') return this.fs.symlink(resolvedSrc, dest);
      throw e;
    }
    if (!isAbsolute(resolvedDest)) resolvedDest = this.resolve(join(dirname(dest), resolvedDest));
    if (this.isSubdir(resolvedSrc, resolvedDest)) {
      throw this.fail('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${resolvedSrc} to a subdirectory of self ${resolvedDest}`, dest);
    }
    const srcStat = await this.fs.stat(src);
    if (srcStat.isDirectory() && this.isSubdir(resolvedDest, resolvedSrc)) {
      throw this.fail('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'EINVAL', `cannot overwrite ${resolvedDest} with ${resolvedSrc}`, dest);
    }
    await this.fs.unlink(dest);
    return this.fs.symlink(resolvedSrc, dest);
  }
}

function identical(a: VaultStats, b: VaultStats): boolean {
  return !!b.ino && !!b.dev && b.ino === a.ino && b.dev === a.dev;
}

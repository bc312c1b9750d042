// postinstall: rebuild the optional FUSE binding (fuse-native 2.2.6) with four small fixes.
//
// 1. utimens is handed the atime twice (`l->atime` where the mtime belongs), so `touch -d`,
//    `tar x` and `cp -p` through a mount would set a file's mtime to its atime.
// 2. The binding does not set libfuse's flag_utime_omit_ok, and without it libfuse drops any
//    utimensat() that leaves one of the two times alone (UTIME_OMIT), which is how tar sets an
//    extracted file's mtime: with the flag, UTIME_NOW arrives as the time now and UTIME_OMIT as
//    a value no time can have (2^64-1 ms), so the mount can tell them apart.
// 3. and 4. With flag_nullpath_ok and a NULL path handed to JavaScript as "", reads and writes
//    on a file that was unlinked while open keep working (the mount uses hard_remove, so no
//    .fuse_hidden file shows up in the vault's history).
// The rebuild takes a few seconds and needs only what npm already uses for native packages
// (node-gyp, Node's headers, a C compiler): the FUSE headers come with fuse-shared-library,
// and the result links the system libfuse2.
//
// The binding is optional: when it is not installed, or the rebuild fails, install goes on
// (the mount then says FUSE is not available, or uses the package's own build and warns that
// times set through the mount are not kept).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let dir;
try {
  dir = dirname(require.resolve('fuse-native/package.json'));
} catch {
  process.exit(0); // not installed (optional): nothing to fix
}

const MARK = '/* agentvfs: patched */';
const PATCHES = [
  ['FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)', 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)'],
  [
    'FUSE_METHOD_VOID(utimens, 5, 0, (const char *path, const struct timespec tv[2]), {\n  l->path = path;\n  l->atime = timespec_to_uint64(&tv[0]);\n  l->mtime = timespec_to_uint64(&tv[1]);',
    'static uint64_t utimens_ms (const struct timespec* ts) {\n  if (ts->tv_nsec == UTIME_OMIT) return UINT64_MAX;\n  if (ts->tv_nsec == UTIME_NOW) {\n    struct timespec now;\n    clock_gettime(CLOCK_REALTIME, &now);\n    return timespec_to_uint64(&now);\n  }\n  return timespec_to_uint64(ts);\n}\n\nFUSE_METHOD_VOID(utimens, 5, 0, (const char *path, const struct timespec tv[2]), {\n  l->path = path;\n  l->atime = utimens_ms(&tv[0]);\n  l->mtime = utimens_ms(&tv[1]);',
  ],
  [
    '  if (implemented[op_init]) ops.init = fuse_native_init;\n',
    '  if (implemented[op_init]) ops.init = fuse_native_init;\n  ops.flag_utime_omit_ok = 1;\n  ops.flag_nullpath_ok = 1;\n',
  ],
  ['l->path, NAPI_AUTO_LENGTH', '(l->path ? l->path : ""), NAPI_AUTO_LENGTH'],
];

const src = join(dir, 'fuse-native.c');
let text = readFileSync(src, 'utf8');
const built = existsSync(join(dir, 'build/Release/fuse.node'));
if (text.startsWith(MARK) && built) process.exit(0);
if (!text.startsWith(MARK)) {
  for (const [bad, good] of PATCHES) {
    if (!text.includes(bad)) {
      console.warn('agentvfs: fuse-native is not the version these fixes are for; left as it is (times set through a mount will not be kept)');
      process.exit(0);
    }
    text = text.split(bad).join(good);
  }
  writeFileSync(src, `${MARK}\n#include <time.h>\n#include <stdint.h>\n${text}`);
}

// npm runs this with npm_config_node_gyp pointing at its own node-gyp; outside npm, find it.
const gyp =
  process.env.npm_config_node_gyp ??
  [join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].find(existsSync);
if (!gyp) {
  console.warn('agentvfs: fuse-native not rebuilt (node-gyp not found): times set through a mount will not be kept');
  process.exit(0);
}
// Node's own headers, as npm is set up to use here (no download: the registry is all we reach).
const nodedir = process.env.npm_config_nodedir ?? dirname(dirname(process.execPath));
const args = existsSync(join(nodedir, 'include/node/node_api.h')) ? [`--nodedir=${nodedir}`] : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  console.warn(`agentvfs: could not rebuild fuse-native (${(r.stderr || '').trim().split('\n').pop()}): times set through a mount will not be kept`);
}

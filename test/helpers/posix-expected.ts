// Cases where `avfs mount` is known to differ from the host, and why. test/mount-posix.test.ts
// fails a case listed here that behaves like the host again, so the table stays true: remove an
// entry when the mount learns the behaviour. Only differences that are true by design belong
// here; a difference that is a bug in the mount is fixed in the mount, not listed.
export const EXPECTED_DIFFERENCES: Record<string, string> = {
  'link/hard-link-to-file': 'a vault has no hard links (one name per inode): link(2) fails',
  'mknod/mkfifo': 'a vault holds files, folders and symlinks only: no FIFOs',
  'mknod/char-device': 'a vault holds files, folders and symlinks only: no device nodes',
  'chown/to-another-user': 'a vault records no owner: files show the mounting user, chown to another cannot stick',
  'chown/to-own-user-and-group': 'a vault records no owner: chown is accepted and changes nothing, so ctime stays',
  'utimes/atime-read-back': 'a vault keeps no access time: atime reads as the mtime',
  'mkdir/nlink-counts-subdirs': "a folder's link count is always 2 (counting subfolders would read every entry on each stat)",
  'names/tree-deeper-than-path-max-by-chdir': 'a vault path is at most 4,096 bytes from its root (PATH_MAX), also when reached step by step with chdir',
};

/**
 * Differences of the fuse-native driver only: libfuse 2's high-level API answers fstat by name,
 * so a file unlinked while open has none. The kernel driver answers through the open handle.
 */
const FUSE_NATIVE_ONLY: Record<string, string> = {
  'unlink/open-file-still-reads-and-writes': 'fstat of a file unlinked while open is ENOENT: libfuse 2 answers stat by name (reads and writes on the descriptor work)',
  'unlink/open-file-fstat-nlink-zero': 'fstat of a file unlinked while open is ENOENT: libfuse 2 answers stat by name',
};

/** Every known difference of a mount served by `driver`. */
export function expectedDifferences(driver: 'kernel' | 'fuse-native'): Record<string, string> {
  return driver === 'kernel' ? EXPECTED_DIFFERENCES : { ...EXPECTED_DIFFERENCES, ...FUSE_NATIVE_ONLY };
}

// Flush a file or a folder to disk (a folder's fsync makes a new entry in it durable). A path
// that does not exist has nothing to flush (SQLite's WAL file comes and goes).
import fs from 'node:fs';

export function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

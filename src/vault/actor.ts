// Who the operation log names when the caller does not say: $AVFS_ACTOR, else the OS user.
import { userInfo } from 'node:os';

export function defaultActor(): string {
  if (process.env.AVFS_ACTOR) return process.env.AVFS_ACTOR;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

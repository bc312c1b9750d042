// The command table: name, the one line the overview shows, and how to load the module that
// implements it. Modules are loaded only when their command runs (start-up time is measured).
// Each module declares its own usage and flags, with their help, next to the code.
import type { Command, CommandGroup, CommandModule } from '../context.js';

export interface Entry {
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: Record<string, Entry> = {
  ls: { summary: 'list folder contents', load: async () => (await import('./ls.js')).commands },
  tree: { summary: 'show a folder as a tree', load: async () => (await import('./tree.js')).commands },
  cat: { summary: 'print files', load: async () => (await import('./cat.js')).commands },
  write: { summary: 'write a file from an argument or stdin', load: async () => (await import('./write.js')).commands },
  touch: { summary: 'create empty files or update their time', load: async () => (await import('./files.js')).commands },
  mkdir: { summary: 'create folders', load: async () => (await import('./files.js')).commands },
  rmdir: { summary: 'remove empty folders', load: async () => (await import('./files.js')).commands },
  rm: { summary: 'remove files and folders', load: async () => (await import('./files.js')).commands },
  cp: { summary: 'copy files and folders', load: async () => (await import('./copy.js')).commands },
  mv: { summary: 'move or rename files and folders', load: async () => (await import('./copy.js')).commands },
  ln: { summary: 'make a symbolic link (ln -s)', load: async () => (await import('./copy.js')).commands },
  stat: { summary: 'show file details', load: async () => (await import('./stat.js')).commands },
  find: { summary: 'find files by name, type, size, age, tag', load: async () => (await import('./find.js')).commands },
  grep: { summary: 'search file contents for a pattern (GNU grep options; a trigram index skips files)', load: async () => (await import('./grep.js')).commands },
  tag: { summary: 'tag files: tag PATH TAG..., -r DIR, --list, --create, --delete, --rename, --copy', load: async () => (await import('./tags.js')).commands },
  untag: { summary: 'remove tags from a file (-r: from every file below a folder)', load: async () => (await import('./tags.js')).commands },
  meta: { summary: 'metadata on files: meta PATH [KEY [VALUE]], --unset, --export, --import, --copy', load: async () => (await import('./meta.js')).commands },
  import: { summary: 'copy a host file or folder into the vault', load: async () => (await import('./transfer.js')).commands },
  export: { summary: 'copy a vault file or folder to the host', load: async () => (await import('./transfer.js')).commands },
  cd: { summary: 'change the working folder (kept per vault)', load: async () => (await import('./cd.js')).commands },
  pwd: { summary: 'print the working folder', load: async () => (await import('./cd.js')).commands },
  diff: { summary: 'compare two files, or versions of one (unified diff)', load: async () => (await import('./diff.js')).commands },
  log: { summary: 'a file\'s versions, or the changes below a folder', load: async () => (await import('./log.js')).commands },
  checkout: { summary: 'make version N of a file its content again', load: async () => (await import('./log.js')).commands },
  revert: { summary: 'undo a file\'s last change (as a new version)', load: async () => (await import('./log.js')).commands },
  snapshot: { summary: 'name points in history: save, list, restore, delete, diff', load: async () => (await import('./snapshot.js')).commands },
  audit: { summary: 'the operation log: who changed what, when', load: async () => (await import('./log.js')).commands },
  vault: { summary: 'manage vaults: create, list, use, info, delete, import, check, fork, stats, config', load: async () => (await import('./vault.js')).commands },
  prune: { summary: 'remove old file versions from history (--keep N | --older-than DAYS)', load: async () => (await import('./retention.js')).commands },
  gc: { summary: 'delete stored content nothing refers to any more', load: async () => (await import('./retention.js')).commands },
  compact: { summary: 'give freed space back to the disk', load: async () => (await import('./retention.js')).commands },
  maintain: { summary: 'prune by the vault\'s settings, then gc, then compact', load: async () => (await import('./retention.js')).commands },
  search: { summary: 'ranked full-text search over file contents (--status, --rebuild)', load: async () => (await import('./search.js')).commands },
  memory: { summary: 'agent memories: add (with tags), search (ranked), get, list, forget', load: async () => (await import('./memory.js')).commands },
  kv: { summary: 'key/value store: set (--ttl, --if-version), get, del, list', load: async () => (await import('./kv.js')).commands },
  session: { summary: 'agent sessions: start (--intent, --payload), get, list, end', load: async () => (await import('./session.js')).commands },
  stream: { summary: 'append-only streams: append, cat (--follow, like tail -f), list, trim', load: async () => (await import('./stream.js')).commands },
  state: { summary: 'live agent state: set, get, watch (across processes, no daemon)', load: async () => (await import('./state.js')).commands },
  mcp: { summary: 'serve the vault to AI agents over the Model Context Protocol (stdio or HTTP)', load: async () => (await import('./mcp.js')).commands },
  mount: { summary: 'show the vault as a real folder (FUSE): every tool works there, writes are versioned', load: async () => (await import('./mount.js')).commands },
  unmount: { summary: 'end a mount made by avfs mount (also a stale one)', load: async () => (await import('./mount.js')).commands },
  help: { summary: 'show help for a command', load: async () => ({}) },
};

export function isGroup(c: Command | CommandGroup): c is CommandGroup {
  return 'sub' in c;
}

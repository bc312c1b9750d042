// Small path helpers for the commands. Vault paths reach the CLI already normalised by
// vault.abs(), so these are plain string operations (the CLI does not import the core).

export function baseName(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export function parentOf(abs: string): string {
  const i = abs.lastIndexOf('/');
  return i <= 0 ? '/' : abs.slice(0, i);
}

/** `dir` + `name`, keeping how the user wrote `dir` (`.`, `src/`, `/`). */
export function joinDisplay(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The part of `path` below `root` ('' for root itself); both absolute and normalised. */
export function relativeTo(path: string, root: string): string {
  if (path === root) return '';
  return root === '/' ? path.slice(1) : path.slice(root.length + 1);
}

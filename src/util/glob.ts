// Shell-style globs turned into anchored regular expressions: `*` and `?` stay inside one
// name, `**` crosses folders, `[abc]` / `[!a-z]` are classes. Everything else is literal, so a
// glob from an agent can never become an expensive regex.

export function globToRegExp(glob: string, opts: { nocase?: boolean } = {}): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // '**/' matches zero or more whole folders; a bare '**' anything at all.
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (m) => '\\' + m);
      re += (negate ? '[^/' : '[') + body + ']';
      i = end;
    } else {
      re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
    }
  }
  return new RegExp('^' + re + '$', opts.nocase ? 'i' : '');
}

export function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/**
 * Argo CD's globs (github.com/gobwas/glob, as Argo CD compiles them): `*` any run of characters
 * (not a separator, when one is given), `**` any run at all, `?` one character, `[abc]`/`[!a-z]`
 * classes, `{a,b}` alternatives; anything else literal. Directory include/exclude compile without
 * a separator; an AppProject's sourceRepos with `/`.
 */
const compiled = new Map<string, RegExp>();

export function argoGlob(pattern: string, separator?: '/'): RegExp {
  const key = `${separator ?? ''}\0${pattern}`;
  let re = compiled.get(key);
  if (re) return re;
  const any = separator ? '[^/]' : '.';
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += `${any}*`;
    } else if (c === '?') out += any;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const body = pattern.slice(i + 1, end);
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else if (c === '\\' && i + 1 < pattern.length) out += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  re = new RegExp(`^${out}$`);
  compiled.set(key, re);
  return re;
}

/** The alternatives of a glob's brace lists, expanded (`{a,b}.yaml` → a.yaml, b.yaml); one level of braces. */
export function braceAlternatives(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  const before = pattern.slice(0, m.index);
  const after = pattern.slice(m.index + m[0].length);
  return m[1]!.split(',').flatMap((alt) => braceAlternatives(`${before}${alt}${after}`));
}

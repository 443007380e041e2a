/**
 * WWW-Authenticate challenges (RFC 7235), as registries send them:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
 *   Basic realm="Registry Realm"
 * Only what a registry client needs: the scheme and its parameters (quoted strings unescaped).
 */
export interface Challenge { scheme: string; params: Record<string, string> }

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    let current: Challenge | undefined;
    const skipSpaces = () => { while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++; };
    while (i < value.length) {
      skipSpaces();
      if (value[i] === ',') { i++; continue; }
      const tok = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(value.slice(i));
      if (!tok) break;
      i += tok[0].length;
      skipSpaces();
      if (value[i] === '=' && current) {
        i++;
        skipSpaces();
        let v = '';
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === '\\' && i + 1 < value.length) i++;
            v += value[i++];
          }
          i++;
        } else {
          const bare = /^[^,\s]*/.exec(value.slice(i))![0];
          v = bare;
          i += bare.length;
        }
        current.params[tok[0].toLowerCase()] = v;
      } else {
        // A token not followed by '=' starts a new challenge (the auth scheme).
        current = { scheme: tok[0].toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}

/** `WWW-Authenticate` parsing (RFC 7235 challenges with auth-params). Pure; no I/O. */

export interface AuthChallenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameters with lower-cased names: realm, service, scope, error, ... */
  params: Record<string, string>;
}

const SEPARATOR = /[\s,]/;
const TOKEN_END = /[\s,=]/;

/** Every challenge in a `WWW-Authenticate` header value, in order. */
export function parseAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;
  while (i < header.length) {
    while (i < header.length && SEPARATOR.test(header.charAt(i))) i++;
    if (i >= header.length) break;
    const start = i;
    while (i < header.length && !TOKEN_END.test(header.charAt(i))) i++;
    const token = header.slice(start, i);
    let next = i;
    while (header.charAt(next) === ' ') next++;
    if (header.charAt(next) === '=' && current) {
      const [value, end] = readParamValue(header, next + 1);
      current.params[token.toLowerCase()] = value;
      i = end;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}

/** A quoted-string (with backslash escapes) or a bare token; returns the value and the index after it. */
function readParamValue(header: string, from: number): [string, number] {
  let i = from;
  while (header.charAt(i) === ' ') i++;
  if (header.charAt(i) !== '"') {
    const start = i;
    while (i < header.length && header.charAt(i) !== ',') i++;
    return [header.slice(start, i).trim(), i];
  }
  let value = '';
  i++;
  while (i < header.length && header.charAt(i) !== '"') {
    if (header.charAt(i) === '\\' && i + 1 < header.length) i++;
    value += header.charAt(i);
    i++;
  }
  return [value, i + 1];
}

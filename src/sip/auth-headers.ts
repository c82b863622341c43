import { isIn, TOKEN, trimLws } from './charsets.js';
import { HeaderScanner, type HeaderParam } from './header-scanner.js';

/**
 * Authorization, Proxy-Authorization (credentials) and WWW-Authenticate, Proxy-Authenticate
 * (challenges), RFC 3261 sections 20.7, 20.27, 20.28, 20.44: a scheme and auth-params. Commas
 * separate parameters, not header values, so each header field holds one of these.
 */
export interface AuthValue {
  readonly scheme: string;
  /** auth-param = name EQUAL (token / quoted-string); values as written. */
  readonly params: readonly HeaderParam[];
  /** The token68-like blob of a scheme that does not use name=value pairs (e.g. Basic). */
  readonly token: string | undefined;
}

// Sticky, so that the probe reads in place rather than on a copy of the rest of the value.
const AUTH_PARAM_START = /[A-Za-z0-9\-.!%*_+`'~]+[ \t]*=/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*[ \t]*$/y;

export function parseAuthValue(text: string, header: string): AuthValue {
  const s = new HeaderScanner(text, header);
  const scheme = s.token('an authentication scheme');
  s.skipWs();
  const params: HeaderParam[] = [];
  if (s.atEnd()) return { scheme, params, token: undefined };
  const save = s.pos;
  // RFC 7235 token68 (`Basic QWxh...==`): its "=" padding only ever ends it, so only a value after
  // an "=" means auth-params.
  TOKEN68.lastIndex = save;
  AUTH_PARAM_START.lastIndex = save;
  const probe = !TOKEN68.test(text) && AUTH_PARAM_START.test(text);
  if (!probe) {
    const rest = trimLws(text.slice(save));
    for (let i = 0; i < rest.length; i++) {
      const c = rest.charCodeAt(i);
      if (!isIn(TOKEN, c) && c !== 47 /* / */ && c !== 61 /* = */) s.fail('malformed credentials');
    }
    return { scheme, params, token: rest };
  }
  do {
    const name = s.token('an auth-param name');
    s.expect('=', `after ${name}`);
    const value = s.genericValue(name);
    params.push({ name, value });
  } while (s.accept(','));
  s.end('the auth-params');
  return { scheme, params, token: undefined };
}

import { createHash, createHmac, randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_LIMITS, type AuthLimits } from '../limits.js';
import { parseAuthValue, type AuthValue } from '../sip/auth-headers.js';
import { SipParseError } from '../sip/errors.js';
import { paramValue, quote, unquote } from '../sip/header-scanner.js';
import type { SipRequest } from '../sip/message.js';
import { parseUri, uriEquals } from '../sip/uri.js';
import { NonceCountTracker } from './nonce-counts.js';
import { checkNonce, issueNonce } from './nonce.js';
import type { HeaderLine, ResponseSpec } from './response-spec.js';

/**
 * SIP digest authentication, server side: RFC 3261 section 22 with RFC 8760 (SHA-256 beside MD5)
 * and RFC 7616 (qop=auth, nonce-count). Challenges and checks only; where the HA1 values come
 * from is the caller's (users.ts). Not supported: qop=auth-int, the -sess algorithms, userhash,
 * credentials without qop (RFC 2069): RFC 8760 section 2.6 item 8 makes the UAC send qop.
 */
export type DigestAlgorithm = 'SHA-256' | 'MD5';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** 401 with WWW-Authenticate from a registrar or UAS; 407 with Proxy-Authenticate from a proxy (section 22.3). */
export type ChallengeKind = 'www' | 'proxy';

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(text, 'utf8').digest('hex');
}

function hexLength(algorithm: DigestAlgorithm): number {
  return algorithm === 'SHA-256' ? 64 : 32;
}

/** HA1 = H(username:realm:password) (RFC 7616 section 3.4.2), lower-case hex. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

/** What a client's credentials say, unquoted. */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  readonly cnonce: string;
  /** The nonce-count as a number (it is written as 8 hex digits). */
  readonly nc: number;
  readonly ncText: string;
  readonly qop: 'auth';
}

/** Why credentials could not be read; the answer is 400 (RFC 7616 section 3.4 lists what is required). */
export class DigestFormatError extends Error {
  readonly code = 'AUTH_ERR_BAD_CREDENTIALS';
  constructor(readonly detail: string) {
    super(`AUTH_ERR_BAD_CREDENTIALS: ${detail}`);
    this.name = 'DigestFormatError';
  }
}

function param(value: AuthValue, name: string): string | undefined {
  const raw = paramValue(value.params, name);
  return raw === undefined || raw === null ? undefined : unquote(raw);
}

function required(value: AuthValue, name: string): string {
  const v = param(value, name);
  if (v === undefined) throw new DigestFormatError(`the ${name} parameter is missing`);
  return v;
}

/**
 * Reads Digest credentials. Throws DigestFormatError when a required parameter is missing or
 * malformed; an algorithm or qop sipsec does not offer is reported by `unsupported`.
 */
export function readDigestCredentials(value: AuthValue): DigestCredentials | { readonly unsupported: string } {
  if (value.scheme.toLowerCase() !== 'digest') return { unsupported: `scheme ${value.scheme}` };
  const algorithmText = param(value, 'algorithm') ?? 'MD5';
  const algorithm = DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === algorithmText.toLowerCase());
  if (algorithm === undefined) return { unsupported: `algorithm ${algorithmText}` };
  const qop = param(value, 'qop');
  if (qop === undefined) return { unsupported: 'credentials without qop' };
  if (qop.toLowerCase() !== 'auth') return { unsupported: `qop ${qop}` };
  const ncText = required(value, 'nc');
  if (!/^[0-9A-Fa-f]{8}$/.test(ncText)) throw new DigestFormatError(`nc must be 8 hex digits, got '${ncText}'`);
  const response = required(value, 'response');
  if (!/^[0-9A-Fa-f]+$/.test(response)) throw new DigestFormatError('response must be hex digits');
  return {
    username: required(value, 'username'),
    realm: required(value, 'realm'),
    nonce: required(value, 'nonce'),
    uri: required(value, 'uri'),
    response: response.toLowerCase(),
    algorithm,
    cnonce: required(value, 'cnonce'),
    nc: Number.parseInt(ncText, 16),
    ncText,
    qop: 'auth',
  };
}

/** request-digest for qop=auth: H(HA1:nonce:nc:cnonce:qop:H(method:uri)) (RFC 7616 section 3.4.1). */
export function computeDigestResponse(credentials: DigestCredentials, ha1: string, method: string): string {
  const c = credentials;
  const ha2 = hash(c.algorithm, `${method}:${c.uri}`);
  return hash(c.algorithm, `${ha1}:${c.nonce}:${c.ncText}:${c.cnonce}:${c.qop}:${ha2}`);
}

/** Whether the credentials' response is the one `ha1` gives, compared in constant time. */
export function verifyDigestResponse(credentials: DigestCredentials, ha1: string, method: string): boolean {
  const expected = Buffer.from(computeDigestResponse(credentials, ha1, method), 'latin1');
  const given = Buffer.from(credentials.response, 'latin1');
  // Compare equal lengths always, so that a short response costs what a wrong one does.
  const same = timingSafeEqual(expected, given.length === expected.length ? given : expected);
  return same && given.length === expected.length;
}

/** Where HA1 values come from: undefined when the user is unknown or has none for the algorithm. */
export interface Ha1Source {
  ha1(username: string, realm: string, algorithm: DigestAlgorithm): string | undefined;
}

export interface DigestAuthenticatorOptions {
  /** The nonce key: every instance that must accept another's nonces holds the same one (at least 16 bytes). */
  readonly secret: Uint8Array;
  /** Challenges offered, in this order (RFC 8760 section 2.3: the preferred first); default SHA-256, MD5. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly limits?: Partial<AuthLimits>;
  readonly now?: () => number;
  readonly randomBytes?: (n: number) => Uint8Array;
}

/** What a request's credentials came to. Challenges carry the whole response to send. */
export type AuthOutcome =
  | { readonly kind: 'authenticated'; readonly username: string; readonly realm: string; readonly algorithm: DigestAlgorithm }
  | {
      readonly kind: 'challenge';
      /**
       * For the log only, never the wire: 'bad-credentials' covers an unknown user and a wrong
       * password alike (no user enumeration).
       */
      readonly reason: 'no-credentials' | 'unsupported' | 'bad-nonce' | 'bad-credentials' | 'stale-nonce' | 'replayed' | 'forgotten-nonce';
      readonly response: ResponseSpec;
    }
  | { readonly kind: 'bad-request'; readonly detail: string; readonly response: ResponseSpec };

export interface AuthenticateInput {
  readonly kind: ChallengeKind;
  /** The realm this request must authenticate in: the local domain it is for or from. */
  readonly realm: string;
  readonly request: SipRequest;
  readonly ha1s: Ha1Source;
}

export class DigestAuthenticator {
  readonly algorithms: readonly DigestAlgorithm[];
  readonly #secret: Uint8Array;
  readonly #limits: AuthLimits;
  readonly #now: () => number;
  readonly #randomBytes: (n: number) => Uint8Array;
  readonly #counts: NonceCountTracker;

  constructor(options: DigestAuthenticatorOptions) {
    if (options.secret.length < 16) throw new RangeError('the nonce secret must hold at least 16 bytes');
    const algorithms = options.algorithms ?? DIGEST_ALGORITHMS;
    if (algorithms.length === 0) throw new RangeError('at least one digest algorithm must be offered');
    if (new Set(algorithms).size !== algorithms.length) throw new RangeError('each digest algorithm may be offered once (RFC 8760 section 2.3)');
    for (const a of algorithms) if (!DIGEST_ALGORITHMS.includes(a)) throw new RangeError(`unknown digest algorithm '${String(a)}'`);
    this.algorithms = [...algorithms];
    this.#secret = Uint8Array.from(options.secret);
    this.#limits = { ...AUTH_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(this.#limits)) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`auth limit ${name} must be a non-negative integer, got ${value}`);
    }
    this.#now = options.now ?? Date.now;
    this.#randomBytes = options.randomBytes ?? cryptoRandomBytes;
    this.#counts = new NonceCountTracker(this.#limits.maxTrackedNonces, this.#limits.nonceCountWindow);
  }

  /** Nonces whose counts are held in memory now (bounded by maxTrackedNonces). */
  get trackedNonces(): number {
    return this.#counts.size;
  }

  /** A 401 or 407 with one challenge per offered algorithm, preferred first (RFC 8760 section 2.3), sharing one fresh nonce. */
  challenge(kind: ChallengeKind, realm: string, stale = false): ResponseSpec {
    const nonce = issueNonce(this.#secret, realm, this.#now(), this.#randomBytes(this.#limits.nonceRandomBytes));
    const name = kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const headers: HeaderLine[] = this.algorithms.map((algorithm) => ({
      name,
      value: `Digest realm=${quote(realm)}, nonce="${nonce}", algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`,
    }));
    return kind === 'www'
      ? { status: 401, reason: 'Unauthorized', headers }
      : { status: 407, reason: 'Proxy Authentication Required', headers };
  }

  authenticate(input: AuthenticateInput): AuthOutcome {
    const { kind, realm, request } = input;
    const fieldName = kind === 'www' ? 'authorization' : 'proxy-authorization';
    const challenge = (reason: Extract<AuthOutcome, { kind: 'challenge' }>['reason'], stale = false): AuthOutcome => ({
      kind: 'challenge',
      reason,
      response: this.challenge(kind, realm, stale),
    });
    const badRequest = (detail: string): AuthOutcome => ({ kind: 'bad-request', detail, response: { status: 400, reason: 'Bad Request', headers: [] } });

    let chosen: AuthValue | undefined;
    try {
      // Credentials for other realms belong to other servers (RFC 3261 section 22.3); ours is the first for our realm.
      for (const field of request.fields(fieldName)) {
        const value = parseAuthValue(field.value, fieldName);
        if (value.scheme.toLowerCase() === 'digest' && param(value, 'realm') === realm) {
          chosen = value;
          break;
        }
      }
    } catch (err) {
      if (err instanceof SipParseError) return badRequest(err.detail);
      throw err;
    }
    if (chosen === undefined) return challenge('no-credentials');
    let credentials: DigestCredentials;
    try {
      const read = readDigestCredentials(chosen);
      if ('unsupported' in read || !this.algorithms.includes(read.algorithm)) return challenge('unsupported');
      credentials = read;
    } catch (err) {
      if (err instanceof DigestFormatError) return badRequest(err.detail);
      throw err;
    }
    if (!this.#sameUri(credentials.uri, request)) return badRequest('the uri parameter is not the Request-URI');
    const nonce = checkNonce(this.#secret, realm, credentials.nonce, this.#now(), {
      lifetimeSeconds: this.#limits.nonceLifetimeSeconds,
      clockSkewSeconds: this.#limits.nonceClockSkewSeconds,
    });
    if (nonce.status === 'invalid') return challenge('bad-nonce');
    // An unknown user costs one HMAC and is checked like a known one: the answer and its timing
    // are those of a wrong password.
    const stored = input.ha1s.ha1(credentials.username, realm, credentials.algorithm);
    const ha1 = stored ?? this.#dummyHa1(credentials.username, realm, credentials.algorithm);
    const matches = verifyDigestResponse(credentials, ha1, request.method);
    if (!matches || stored === undefined) return challenge('bad-credentials');
    // stale=true only for a right answer to an old nonce (RFC 7616 section 3.3), so it tells a
    // guesser nothing it did not know.
    if (nonce.status === 'expired') return challenge('stale-nonce', true);
    const verdict = this.#counts.use(credentials.nonce, credentials.nc, nonce.issuedAtSeconds);
    if (verdict === 'replayed') return challenge('replayed', true);
    if (verdict === 'forgotten') return challenge('forgotten-nonce', true);
    return { kind: 'authenticated', username: credentials.username, realm, algorithm: credentials.algorithm };
  }

  #sameUri(digestUri: string, request: SipRequest): boolean {
    const requestUri = request.uri.toString();
    if (digestUri === requestUri) return true;
    try {
      return uriEquals(parseUri(digestUri), request.uri);
    } catch (err) {
      if (err instanceof SipParseError) return false;
      throw err;
    }
  }

  #dummyHa1(username: string, realm: string, algorithm: DigestAlgorithm): string {
    return createHmac('sha256', this.#secret)
      .update(`sipsec dummy ha1\0${algorithm}\0${username}\0${realm}`)
      .digest('hex')
      .slice(0, hexLength(algorithm));
  }
}

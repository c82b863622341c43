/**
 * The client side of a REGISTER with digest authentication, for tests: builds requests as text,
 * answers 401 and 407 challenges (RFC 7616 qop=auth) and hands each request to an exchange, which
 * is a real server transaction in process (RegisterHarness) or a real SipStack over loopback.
 */
import { randomBytes } from 'node:crypto';
import { parseAuthValue } from '../sip/auth-headers.js';
import { paramValue, unquote } from '../sip/header-scanner.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parse-message.js';
import { computeDigestResponse, computeHa1, DIGEST_ALGORITHMS, type DigestAlgorithm, type DigestCredentials } from '../registrar/digest.js';

/** Sends one request in a new transaction and resolves with its final response. */
export type Exchange = (request: SipRequest) => Promise<SipResponse>;

export interface ClientIdentity {
  /** user@domain: the From, and by default the To. */
  readonly address: string;
  readonly password: string;
  /** Via sent-by and transport. */
  readonly via: { readonly transport: string; readonly host: string };
}

export interface RegisterOptions {
  /** The AOR registered (To); default the client's own address. */
  readonly aor?: string;
  /** Header lines added as written: Contact, Expires, Supported ... */
  readonly headers?: readonly string[];
  /** Answer with this algorithm (default: the first offered). */
  readonly algorithm?: DigestAlgorithm;
  /** Answer the challenge with this password instead. */
  readonly password?: string;
  /** Answer as this digest username instead. */
  readonly username?: string;
  readonly callId?: string;
}

let branchCounter = 0;

/** A request as text, parsed as the transport would hand it up. */
export function requestFrom(lines: readonly string[]): SipRequest {
  const message = parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')));
  if (message.kind !== 'request') throw new Error('not a request');
  return message;
}

/** Credentials answering the challenge `value` (a WWW- or Proxy-Authenticate field). */
export function answerChallenge(value: string, request: { method: string; uri: string }, username: string, password: string): string {
  const challenge = parseAuthValue(value, 'www-authenticate');
  const get = (name: string): string => {
    const raw = paramValue(challenge.params, name);
    if (raw === undefined || raw === null) throw new Error(`challenge without ${name}`);
    return unquote(raw);
  };
  const algorithmText = get('algorithm');
  const algorithm = DIGEST_ALGORITHMS.find((a) => a === algorithmText);
  if (algorithm === undefined) throw new Error(`algorithm ${algorithmText}`);
  const realm = get('realm');
  const credentials: DigestCredentials = {
    username,
    realm,
    nonce: get('nonce'),
    uri: request.uri,
    response: '',
    algorithm,
    cnonce: randomBytes(8).toString('hex'),
    nc: 1,
    ncText: '00000001',
    qop: 'auth',
  };
  const response = computeDigestResponse(credentials, computeHa1(algorithm, username, realm, password), request.method);
  return `Digest username="${username}", realm="${realm}", nonce="${credentials.nonce}", uri="${request.uri}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="${credentials.cnonce}", response="${response}"`;
}

/** A UA registering: keeps a Call-ID and its CSeq, as RFC 3261 section 10.2 asks. */
export class RegisterClient {
  readonly callId: string;
  cseq = 0;

  constructor(
    readonly identity: ClientIdentity,
    readonly exchange: Exchange,
  ) {
    this.callId = `${randomBytes(6).toString('hex')}@${identity.via.host}`;
  }

  /** A REGISTER of this client, without credentials unless `authorization` is given. */
  build(options: RegisterOptions = {}, authorization?: string, callId?: string, cseq?: number): SipRequest {
    const domain = this.identity.address.slice(this.identity.address.lastIndexOf('@') + 1);
    const aor = options.aor ?? this.identity.address;
    return requestFrom([
      `REGISTER sip:${domain} SIP/2.0`,
      `Via: SIP/2.0/${this.identity.via.transport} ${this.identity.via.host};branch=z9hG4bK-reg-${++branchCounter}-${randomBytes(4).toString('hex')};rport`,
      'Max-Forwards: 70',
      `To: <sip:${aor}>`,
      `From: <sip:${this.identity.address}>;tag=${randomBytes(4).toString('hex')}`,
      `Call-ID: ${callId ?? options.callId ?? this.callId}`,
      `CSeq: ${cseq ?? ++this.cseq} REGISTER`,
      ...(options.headers ?? []),
      ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
    ]);
  }

  /** Sends without credentials and returns the answer (a 401 when all is well). */
  unauthenticated(options: RegisterOptions = {}): Promise<SipResponse> {
    return this.exchange(this.build(options));
  }

  /** Sends, answers the 401 with credentials, and returns the final answer to that. */
  async register(options: RegisterOptions = {}): Promise<SipResponse> {
    const first = await this.exchange(this.build(options));
    if (first.status !== 401) return first;
    const offered = first.fields('www-authenticate').map((f) => f.value);
    const chosen = options.algorithm === undefined ? offered[0] : offered.find((v) => v.includes(`algorithm=${options.algorithm}`));
    if (chosen === undefined) throw new Error(`no ${options.algorithm ?? ''} challenge in ${offered.join(' | ')}`);
    const domain = this.identity.address.slice(this.identity.address.lastIndexOf('@') + 1);
    const user = this.identity.address.slice(0, this.identity.address.lastIndexOf('@'));
    const authorization = answerChallenge(chosen, { method: 'REGISTER', uri: `sip:${domain}` }, options.username ?? user, options.password ?? this.identity.password);
    return this.exchange(this.build(options, authorization));
  }
}

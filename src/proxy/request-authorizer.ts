import type { DigestAuthenticator, Ha1Source } from '../registrar/digest.js';
import { SipParseError } from '../sip/errors.js';
import type { SipRequest } from '../sip/message.js';
import type { TransportContext } from '../transport/transport-context.js';
import { claimedUsername } from './auth-failure.js';
import type { Authorization, LocalDomains, RequestAuthorizer } from './contracts.js';
import { domainOf } from './registrar-service.js';
import { silentRegistrationLogger, type RegistrationLogger } from './registration-log.js';

export interface DigestRequestAuthorizerOptions {
  /** The local users' HA1 values (a UserDirectory from users.yaml). */
  readonly users: Ha1Source;
  /** The same authenticator as the registrar's (one nonce secret, the configured algorithms). */
  readonly authenticator: DigestAuthenticator;
  readonly localDomains: LocalDomains;
  readonly log?: RegistrationLogger;
}

/**
 * No open relay (RFC 3261 sections 16 and 22.3): a request from a local user for another domain
 * must carry Proxy-Authorization valid in the realm of its From domain; without it, 407 with
 * Proxy-Authenticate. The user authenticated must also be the From user, so that one user's
 * credentials do not send requests in another's name (Kamailio's proxy_authorize checks the same
 * with its From-user flag).
 */
export class DigestRequestAuthorizer implements RequestAuthorizer {
  readonly #users: Ha1Source;
  readonly #auth: DigestAuthenticator;
  readonly #domains: LocalDomains;
  readonly #log: RegistrationLogger;

  constructor(options: DigestRequestAuthorizerOptions) {
    this.#users = options.users;
    this.#auth = options.authenticator;
    this.#domains = options.localDomains;
    this.#log = options.log ?? silentRegistrationLogger;
  }

  authorize(request: SipRequest, context: TransportContext): Authorization {
    let fromUser: string | undefined;
    let realm: string;
    try {
      const from = request.from().uri;
      if (from.type !== 'sip') return this.#refused(request, 403, 'Forbidden', `From is a ${from.scheme}: URI`);
      fromUser = from.user;
      realm = domainOf(from.host);
    } catch (err) {
      if (err instanceof SipParseError) return this.#refused(request, 400, 'Bad Request', `${err.header ?? 'From'}: ${err.detail}`);
      throw err;
    }
    // The core asks only for requests from a local domain; any other has nobody here to vouch for it.
    if (!this.#domains.isLocal(realm)) return this.#refused(request, 403, 'Forbidden', `${realm} is not a local domain`);
    const outcome = this.#auth.authenticate({ kind: 'proxy', realm, request, ha1s: this.#users });
    if (outcome.kind === 'challenge') {
      if (outcome.reason === 'bad-credentials') {
        let claimed: string | undefined;
        try {
          claimed = claimedUsername(request.proxyAuthorizations());
        } catch {
          claimed = undefined;
        }
        this.#log('warn', 'request-auth-failed', { method: request.method, realm, user: claimed, remote: `${context.remote.address}:${context.remote.port}` });
      }
      this.#log('debug', 'request-challenged', { method: request.method, realm, reason: outcome.reason, remote: `${context.remote.address}:${context.remote.port}` });
      return { kind: 'refused', response: outcome.response };
    }
    if (outcome.kind === 'bad-request') return this.#refused(request, 400, 'Bad Request', outcome.detail);
    const user = `${outcome.username}@${outcome.realm}`;
    if (fromUser === undefined || decodeUser(fromUser) !== outcome.username) {
      return this.#refused(request, 403, 'Forbidden', `${user} may not send as ${fromUser ?? '(no user)'}@${realm}`);
    }
    return { kind: 'authorized', user };
  }

  #refused(request: SipRequest, status: 400 | 403, reason: string, why: string): Authorization {
    this.#log('info', 'request-refused', { method: request.method, status, why });
    return { kind: 'refused', response: { status, reason, headers: [] } };
  }
}

/** The user part with its escapes decoded, as aorOf compares it; undecodable escapes stay as written. */
function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

import { LOCATION_LIMITS, type RegistrarLimits } from '../limits.js';
import type { DigestAuthenticator, Ha1Source } from '../registrar/digest.js';
import { RegistrarError } from '../registrar/errors.js';
import type { LocationStore } from '../registrar/location-store.js';
import { applyRegister, prepareRegister, type RegisterDecision } from '../registrar/registrar.js';
import type { ResponseSpec } from '../registrar/response-spec.js';
import { SipParseError } from '../sip/errors.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { safeCallId } from '../sip/message.js';
import { buildResponse } from '../transaction/local-response.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { TransportContext } from '../transport/transport-context.js';
import { newTag } from '../ua/identifiers.js';
import { claimedUsername } from './auth-failure.js';
import type { LocalDomains, RegistrarHandler } from './contracts.js';
import { bindingFields, silentRegistrationLogger, type RegistrationLogger } from './registration-log.js';

export interface RegistrarServiceOptions {
  /** The local users' HA1 values (a UserDirectory from users.yaml). */
  readonly users: Ha1Source;
  /** Built with the configured nonce secret and `auth.algorithms` (the challenges, in order). */
  readonly authenticator: DigestAuthenticator;
  readonly store: LocationStore;
  readonly localDomains: LocalDomains;
  readonly log?: RegistrationLogger;
  /** Registrar rules (REGISTRAR_LIMITS): Min-Expires, the per-AOR limit, ... */
  readonly limits?: Partial<RegistrarLimits>;
  /** Retry-After of the 500 sent while the location backend fails (LOCATION_LIMITS.unavailableRetryAfterSeconds). */
  readonly retryAfterSeconds?: number;
  readonly now?: () => number;
}

/** The SIP response for `request` that a ResponseSpec describes, with a To tag (section 8.2.6.2). */
export function responseFromSpec(request: SipRequest, spec: ResponseSpec): SipResponse {
  const response = buildResponse(request, spec.status, spec.reason, { toTag: newTag() });
  for (const h of spec.headers) response.addHeader(h.name, h.value);
  return response;
}

/** A URI host as a domain name compares: lower case, without the final dot. */
export function domainOf(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * The registrar of `sipsec proxy` (RFC 3261 section 10.3): digest authentication in the realm of
 * the To domain, then src/registrar's prepareRegister, and applyRegister inside the location
 * store's atomic update, so that the Call-ID/CSeq rule holds across instances sharing a backend.
 * Every REGISTER gets a final response, whatever fails: a location backend that fails gives 500
 * with Retry-After, and nothing is kept from it, so the next REGISTER after the backend returns
 * is served as usual.
 */
export class RegistrarService implements RegistrarHandler {
  readonly #users: Ha1Source;
  readonly #auth: DigestAuthenticator;
  readonly #store: LocationStore;
  readonly #domains: LocalDomains;
  readonly #log: RegistrationLogger;
  readonly #limits: Partial<RegistrarLimits>;
  readonly #retryAfterSeconds: number;
  readonly #now: () => number;

  constructor(options: RegistrarServiceOptions) {
    const retry = options.retryAfterSeconds ?? LOCATION_LIMITS.unavailableRetryAfterSeconds;
    if (!Number.isInteger(retry) || retry < 0) throw new RangeError(`retryAfterSeconds must be a non-negative integer, got ${retry}`);
    this.#users = options.users;
    this.#auth = options.authenticator;
    this.#store = options.store;
    this.#domains = options.localDomains;
    this.#log = options.log ?? silentRegistrationLogger;
    this.#limits = options.limits ?? {};
    this.#retryAfterSeconds = retry;
    this.#now = options.now ?? Date.now;
  }

  async handleRegister(tx: ServerTransaction, request: SipRequest, context: TransportContext): Promise<void> {
    let spec: ResponseSpec;
    try {
      spec = await this.#decide(request, context);
    } catch (err) {
      // A bug, not a verdict: the UA still gets its final response, and the log the error.
      this.#log('error', 'register-error', { callId: safeCallId(request), detail: err instanceof Error ? err.message : String(err) });
      spec = { status: 500, reason: 'Server Internal Error', headers: [] };
    }
    try {
      tx.respond(responseFromSpec(request, spec));
    } catch (err) {
      // The transaction ended meanwhile (the layer closed): nobody is left to answer.
      this.#log('warn', 'register-unanswered', { callId: safeCallId(request), status: spec.status, detail: err instanceof Error ? err.message : String(err) });
    }
  }

  async #decide(request: SipRequest, context: TransportContext): Promise<ResponseSpec> {
    let realm: string;
    try {
      const to = request.to().uri;
      // The realm is the domain of the AOR being registered: its users' HA1 values are made for it.
      if (to.type !== 'sip') return this.#refused(request, { status: 404, reason: 'Not Found', headers: [] }, `To is a ${to.scheme}: URI`);
      realm = domainOf(to.host);
    } catch (err) {
      if (err instanceof SipParseError) return this.#refused(request, { status: 400, reason: 'Bad Request', headers: [] }, `${err.header ?? 'To'}: ${err.detail}`);
      throw err;
    }
    if (!this.#domains.isLocal(realm)) return this.#refused(request, { status: 404, reason: 'Not Found', headers: [] }, `${realm} is not a domain of this registrar`);

    const outcome = this.#auth.authenticate({ kind: 'www', realm, request, ha1s: this.#users });
    if (outcome.kind === 'challenge') {
      // A wrong password (or an unknown user: the same word, never told apart) is worth an
      // operator's eye; a first REGISTER without credentials is the normal start.
      if (outcome.reason === 'bad-credentials') {
        this.#log('warn', 'register-auth-failed', { realm, user: claimedUsername(safeAuthorizations(request)), remote: `${context.remote.address}:${context.remote.port}`, callId: safeCallId(request) });
      }
      this.#log('debug', 'register-challenged', { realm, reason: outcome.reason, remote: `${context.remote.address}:${context.remote.port}`, callId: safeCallId(request) });
      return outcome.response;
    }
    if (outcome.kind === 'bad-request') return this.#refused(request, outcome.response, outcome.detail);

    const user = `${outcome.username}@${outcome.realm}`;
    const prepared = prepareRegister(request, user, context, { isLocalDomain: (d) => this.#domains.isLocal(d), limits: this.#limits });
    if (prepared.kind === 'respond') return this.#refused(request, prepared.response, prepared.why, user);
    // The core hands only REGISTERs for a local domain; one that is not is nobody's here.
    if (prepared.kind === 'not-local') return this.#refused(request, { status: 404, reason: 'Not Found', headers: [] }, `${prepared.domain} is not a domain of this registrar`, user);

    const plan = prepared.plan;
    let decision: RegisterDecision;
    let nowMs = this.#now();
    try {
      decision = await this.#store.update(plan.aor, (current) => {
        // Read at each call: a backend may call decide again after losing a race.
        nowMs = this.#now();
        const d = applyRegister(plan, current, nowMs, { limits: this.#limits });
        return { next: d.next, result: d };
      });
    } catch (err) {
      if (!(err instanceof RegistrarError)) throw err;
      this.#log('warn', 'location-unavailable', { aor: plan.aor, operation: 'register', code: err.code, detail: err.message });
      return { status: 500, reason: 'Server Internal Error', headers: [{ name: 'Retry-After', value: String(this.#retryAfterSeconds) }] };
    }
    if (decision.response.status >= 300) {
      const warning = decision.response.headers.find((h) => h.name.toLowerCase() === 'warning')?.value;
      return this.#refused(request, decision.response, warning ?? 'refused by the registrar rules', user);
    }
    for (const change of decision.changes) {
      this.#log('info', `registration-${change.action}`, { ...bindingFields(change.binding, nowMs), callId: plan.callId, cseq: plan.cseq });
    }
    return decision.response;
  }

  #refused(request: SipRequest, response: ResponseSpec, why: string, user?: string): ResponseSpec {
    this.#log('info', 'register-refused', { status: response.status, why, user, callId: safeCallId(request) });
    return response;
  }
}


function safeAuthorizations(request: SipRequest): ReturnType<SipRequest['authorizations']> {
  try {
    return request.authorizations();
  } catch {
    return [];
  }
}

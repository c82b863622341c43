import { REGISTRAR_LIMITS, type RegistrarLimits } from '../limits.js';
import { SipParseError } from '../sip/errors.js';
import { paramValue, unquote } from '../sip/header-scanner.js';
import type { SipRequest } from '../sip/message.js';
import type { NameAddr } from '../sip/name-addr.js';
import { parseBoundedInt } from '../sip/scalar-headers.js';
import { normalizeEscapes, parseUri, uriEquals, type Uri } from '../sip/uri.js';
import type { Endpoint, TransportProtocol } from '../transport/transport-context.js';
import { secondsLeft, type Binding, type ContactParam } from './binding.js';
import type { HeaderLine, ResponseSpec } from './response-spec.js';

/**
 * The registrar's decisions (RFC 3261 section 10.3, RFC 5626 section 6, RFC 3327), as pure
 * functions of the request, the authenticated user, the current bindings and the time. In two
 * steps, because the bindings to read depend on the request:
 *   prepareRegister: steps 1-5 and every check that needs no binding (400, 403, 404, 420, 423, 439);
 *   applyRegister:   steps 6-8 against the current bindings, run inside the location store's
 *                    atomic update so that the Call-ID/CSeq ordering holds across instances.
 */

/** Option tags a REGISTER may Require of this registrar (section 10.3 step 2). */
export const REGISTRAR_SUPPORTED = ['path', 'outbound'] as const;

export interface RegistrarOptions {
  /** Whether this registrar keeps the bindings of `domain` (lower case, no trailing dot). */
  readonly isLocalDomain: (domain: string) => boolean;
  readonly limits?: Partial<RegistrarLimits>;
}

/** The transport facts the binding records (a TransportContext fits). */
export interface RegisterSource {
  readonly transport: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly connectionId: string | undefined;
}

/** One Contact of the request, checked, with the expiry the registrar grants (0 removes). */
interface ContactPlan {
  readonly uri: Uri;
  readonly text: string;
  readonly params: readonly ContactParam[];
  readonly q: number | undefined;
  readonly expiresSeconds: number;
  readonly instanceId: string | undefined;
  readonly regId: number | undefined;
}

/** What prepareRegister found: the request is for `aor` and asks for these changes. */
export interface RegisterPlan {
  readonly aor: string;
  /** undefined: no Contact (a query); 'star': Contact: * with Expires 0. */
  readonly contacts: readonly ContactPlan[] | 'star' | undefined;
  readonly callId: string;
  readonly cseq: number;
  readonly outbound: boolean;
  /** The UA listed `path` in Supported: the 200 echoes the Path (RFC 3327 section 5.3). */
  readonly echoPath: boolean;
  readonly path: readonly string[];
  readonly userAgent: string | undefined;
  readonly source: RegisterSource;
}

export type PrepareResult =
  | { readonly kind: 'proceed'; readonly plan: RegisterPlan }
  /** Answer the request with `response`; no binding changes. */
  | { readonly kind: 'respond'; readonly response: ResponseSpec; readonly why: string }
  /** The Request-URI's domain is not ours: a proxy forwards the request (step 1). */
  | { readonly kind: 'not-local'; readonly domain: string };

export interface BindingChange {
  readonly action: 'added' | 'refreshed' | 'removed';
  readonly binding: Binding;
}

export interface RegisterDecision {
  readonly response: ResponseSpec;
  /** The AOR's bindings to store, or undefined to leave the store as it is (a query, a failure). */
  readonly next: readonly Binding[] | undefined;
  readonly changes: readonly BindingChange[];
}

function respond(status: number, reason: string, why: string, headers: HeaderLine[] = []): PrepareResult {
  return { kind: 'respond', response: { status, reason, headers }, why };
}

/**
 * The canonical address-of-record of a SIP URI (section 10.3 step 5): parameters dropped, escapes
 * of the user decoded, the host in lower case without a final dot; `user@host`. undefined for a
 * URI that names no user at a host (tel:, a bare domain).
 */
export function aorOf(uri: Uri): string | undefined {
  if (uri.type !== 'sip' || uri.user === undefined || uri.user === '') return undefined;
  let user: string;
  try {
    user = decodeURIComponent(normalizeEscapes(uri.user));
  } catch {
    return undefined;
  }
  return `${user}@${uri.host.toLowerCase().replace(/\.$/, '')}`;
}

/** The same user at the same domain: the user part compares exactly (section 19.1.4), the domain without case. */
function sameUser(a: string, b: string): boolean {
  const at = a.lastIndexOf('@');
  const bt = b.lastIndexOf('@');
  return a.slice(0, at) === b.slice(0, bt) && a.slice(at + 1).toLowerCase() === b.slice(bt + 1).toLowerCase();
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (section 25.1). */
function parseQ(text: string): number | undefined {
  return /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text) ? Number(text) : undefined;
}

export function prepareRegister(request: SipRequest, authenticatedUser: string | undefined, source: RegisterSource, options: RegistrarOptions): PrepareResult {
  const limits: RegistrarLimits = { ...REGISTRAR_LIMITS, ...options.limits };
  try {
    return prepareChecked(request, authenticatedUser, source, options, limits);
  } catch (err) {
    // A header the lazy parse had not read yet turns out malformed: the request is (section 21.4.1).
    if (err instanceof SipParseError) return respond(400, 'Bad Request', `${err.header ?? 'message'}: ${err.detail}`);
    throw err;
  }
}

function prepareChecked(request: SipRequest, authenticatedUser: string | undefined, source: RegisterSource, options: RegistrarOptions, limits: RegistrarLimits): PrepareResult {
  if (request.method !== 'REGISTER') return respond(405, 'Method Not Allowed', 'a registrar accepts only REGISTER', [{ name: 'Allow', value: 'REGISTER' }]);
  // Step 1: the domain of the Request-URI.
  const target = request.uri;
  if (target.type !== 'sip') return respond(416, 'Unsupported URI Scheme', `Request-URI scheme ${target.scheme}`);
  const domain = target.host.toLowerCase().replace(/\.$/, '');
  if (!options.isLocalDomain(domain)) return { kind: 'not-local', domain };
  // Step 2: Require (section 8.2.2.3).
  const unsupported = request.require().filter((tag) => !(REGISTRAR_SUPPORTED as readonly string[]).includes(tag.toLowerCase()));
  if (unsupported.length > 0) return respond(420, 'Bad Extension', `unsupported ${unsupported.join(', ')}`, [{ name: 'Unsupported', value: unsupported.join(', ') }]);
  // Steps 3 and 4: the caller authenticated; the user may change only its own bindings (no third-party registration).
  const aor = aorOf(request.to().uri);
  if (authenticatedUser === undefined || aor === undefined || !sameUser(authenticatedUser, aor)) {
    return respond(403, 'Forbidden', `${authenticatedUser ?? 'an unauthenticated user'} may not register ${aor ?? request.to().uri.toString()}`);
  }
  // Step 5: the AOR must be of the Request-URI's domain.
  if (!aor.endsWith(`@${domain}`)) return respond(404, 'Not Found', `${aor} is not in ${domain}`);

  const callId = request.callId();
  const cseq = request.cseq();
  if (cseq.method !== 'REGISTER') return respond(400, 'Bad Request', `CSeq method ${cseq.method} is not REGISTER`);
  const path = request.headerValues('path');
  if (path.length > limits.maxPathEntries) return respond(400, 'Bad Request', `more than ${limits.maxPathEntries} Path values`);
  const supported = request.supported().map((t) => t.toLowerCase());
  const userAgentText = request.header('user-agent');
  const userAgent = userAgentText === undefined ? undefined : userAgentText.slice(0, limits.maxUserAgentBytes);
  const headerExpires = request.expires();
  const contacts = request.contacts();
  const base = { aor, callId, cseq: cseq.seq, echoPath: supported.includes('path'), path, userAgent, source };

  if (contacts.length === 0) return { kind: 'proceed', plan: { ...base, contacts: undefined, outbound: false } };
  // Step 6: `*` alone and only with Expires: 0 (the parser already refuses a star among others).
  if (contacts.some((c) => 'star' in c)) {
    if (headerExpires !== 0) return respond(400, 'Bad Request', 'Contact: * needs Expires: 0');
    return { kind: 'proceed', plan: { ...base, contacts: 'star', outbound: false } };
  }
  const plans: ContactPlan[] = [];
  // RFC 5626 section 6: outbound applies at the first hop, or behind an edge proxy whose Path has ob.
  const firstHop = request.via().length === 1;
  const firstPath = path[0];
  const pathOb = firstPath !== undefined && pathHasOb(firstPath);
  for (const contact of contacts as NameAddr[]) {
    const expiresParam = paramValue(contact.params, 'expires');
    let requested: number;
    if (expiresParam !== undefined && expiresParam !== null) requested = parseBoundedInt(expiresParam, 0xffff_ffff, 'contact');
    else if (expiresParam === null) return respond(400, 'Bad Request', 'expires parameter without a value');
    else requested = headerExpires ?? limits.defaultExpiresSeconds;
    // Step 7: 423 only for 0 < requested < min (and below an hour, which a sane minimum is).
    if (requested > 0 && requested < limits.minExpiresSeconds && requested < 3600) {
      return respond(423, 'Interval Too Brief', `${requested} s is below ${limits.minExpiresSeconds} s`, [{ name: 'Min-Expires', value: String(limits.minExpiresSeconds) }]);
    }
    const qText = paramValue(contact.params, 'q');
    let q: number | undefined;
    if (qText !== undefined) {
      q = qText === null ? undefined : parseQ(qText);
      if (q === undefined) return respond(400, 'Bad Request', `q=${qText ?? ''} is not a qvalue`);
    }
    const instanceRaw = paramValue(contact.params, '+sip.instance');
    const instanceId = instanceRaw === undefined || instanceRaw === null ? undefined : unquote(instanceRaw);
    const regIdText = paramValue(contact.params, 'reg-id');
    let regId: number | undefined;
    if (regIdText !== undefined) {
      // reg-id = 1*DIGIT, 1 to 2**31-1 (RFC 5626 section 13).
      if (regIdText === null || !/^\d{1,10}$/.test(regIdText) || Number(regIdText) < 1 || Number(regIdText) > 0x7fff_ffff) return respond(400, 'Bad Request', `reg-id=${regIdText ?? ''} is not valid`);
      regId = Number(regIdText);
    }
    if (regId !== undefined && supported.includes('outbound') && !firstHop && !pathOb) {
      return respond(439, 'First Hop Lacks Outbound Support', 'reg-id through a proxy without an ob Path');
    }
    // Without instance-id, without outbound support, or through a proxy that is no edge proxy: reg-id is ignored.
    if (regId !== undefined && (instanceId === undefined || !supported.includes('outbound') || (!firstHop && !pathOb))) regId = undefined;
    plans.push({
      uri: contact.uri,
      text: contact.uri.toString(),
      params: contact.params.filter((p) => !['expires', 'q'].includes(p.name.toLowerCase())).map((p) => ({ name: p.name, value: p.value })),
      q,
      expiresSeconds: Math.min(requested, limits.maxExpiresSeconds),
      instanceId,
      regId,
    });
  }
  const outbound = plans.some((p) => p.regId !== undefined);
  if (outbound && plans.filter((p) => p.expiresSeconds > 0).length > 1) {
    return respond(400, 'Bad Request', 'a registration with reg-id registers one contact (RFC 5626 section 6)');
  }
  return { kind: 'proceed', plan: { ...base, contacts: plans, outbound } };
}

function pathHasOb(value: string): boolean {
  const m = /<([^>]*)>/.exec(value);
  try {
    const uri = parseUri(m?.[1] ?? value.trim());
    return uri.type === 'sip' && uri.param('ob') !== undefined;
  } catch (err) {
    if (err instanceof SipParseError) return false;
    throw err;
  }
}

function sameBinding(binding: Binding, contact: ContactPlan): boolean {
  // RFC 5626 section 6: an outbound binding is the AOR with instance-id and reg-id, whatever its URI.
  if (contact.regId !== undefined || binding.regId !== undefined) return contact.regId === binding.regId && contact.instanceId === binding.instanceId;
  try {
    return uriEquals(parseUri(binding.contact), contact.uri);
  } catch (err) {
    if (err instanceof SipParseError) return binding.contact === contact.text;
    throw err;
  }
}

/** 500 for a REGISTER out of order: section 10.3 steps 6 and 7 say "the request fails", and failures there are 500. */
function outOfOrder(why: string): RegisterDecision {
  return { response: { status: 500, reason: 'Server Internal Error', headers: [{ name: 'Warning', value: `399 - "${why}"` }] }, next: undefined, changes: [] };
}

/** Steps 6 to 8 against the AOR's live bindings (the store hides expired ones). */
export function applyRegister(plan: RegisterPlan, current: readonly Binding[], nowMs: number, options: Pick<RegistrarOptions, 'limits'> = {}): RegisterDecision {
  const limits: RegistrarLimits = { ...REGISTRAR_LIMITS, ...options.limits };
  const live = current.filter((b) => b.expiresAtMs > nowMs);
  const changes: BindingChange[] = [];
  let next: Binding[];
  if (plan.contacts === undefined) {
    next = live;
  } else if (plan.contacts === 'star') {
    for (const b of live) {
      if (b.callId === plan.callId && plan.cseq <= b.cseq) return outOfOrder(`CSeq ${plan.cseq} is not above ${b.cseq} of this Call-ID`);
      changes.push({ action: 'removed', binding: b });
    }
    next = [];
  } else {
    next = [...live];
    for (const contact of plan.contacts) {
      const index = next.findIndex((b) => sameBinding(b, contact));
      const existing = index < 0 ? undefined : next[index];
      if (existing !== undefined && existing.callId === plan.callId && plan.cseq <= existing.cseq) {
        return outOfOrder(`CSeq ${plan.cseq} is not above ${existing.cseq} of this Call-ID`);
      }
      if (contact.expiresSeconds === 0) {
        if (existing !== undefined) {
          next.splice(index, 1);
          changes.push({ action: 'removed', binding: existing });
        }
        continue;
      }
      const binding = makeBinding(plan, contact, nowMs);
      if (existing === undefined) {
        next.push(binding);
        changes.push({ action: 'added', binding });
      } else {
        next[index] = binding;
        changes.push({ action: 'refreshed', binding });
      }
    }
    if (next.length > limits.maxBindingsPerAor && next.length > live.length) {
      return { response: { status: 403, reason: 'Too Many Bindings', headers: [{ name: 'Warning', value: `399 - "at most ${limits.maxBindingsPerAor} bindings per address-of-record"` }] }, next: undefined, changes: [] };
    }
  }
  return { response: okResponse(plan, next, nowMs), next: plan.contacts === undefined ? undefined : next, changes };
}

function makeBinding(plan: RegisterPlan, contact: ContactPlan, nowMs: number): Binding {
  const s = plan.source;
  return {
    aor: plan.aor,
    contact: contact.text,
    params: contact.params,
    q: contact.q,
    expiresAtMs: nowMs + contact.expiresSeconds * 1000,
    callId: plan.callId,
    cseq: plan.cseq,
    receivedFrom: { transport: s.transport, address: s.remote.address, port: s.remote.port, localAddress: s.local.address, localPort: s.local.port },
    connectionId: s.transport === 'udp' ? undefined : s.connectionId,
    instanceId: contact.instanceId,
    regId: contact.regId,
    path: plan.path,
    userAgent: plan.userAgent,
    updatedAtMs: nowMs,
  };
}

/** Step 8: 200 listing every current binding with the expiry granted, and a Date. */
function okResponse(plan: RegisterPlan, bindings: readonly Binding[], nowMs: number): ResponseSpec {
  const headers: HeaderLine[] = [];
  for (const b of bindings) headers.push({ name: 'Contact', value: contactValue(b, nowMs) });
  headers.push({ name: 'Date', value: new Date(nowMs).toUTCString() });
  if (plan.outbound) headers.push({ name: 'Require', value: 'outbound' });
  if (plan.echoPath) for (const p of plan.path) headers.push({ name: 'Path', value: p });
  return { status: 200, reason: 'OK', headers };
}

function contactValue(b: Binding, nowMs: number): string {
  let value = `<${b.contact}>;expires=${secondsLeft(b, nowMs)}`;
  if (b.q !== undefined) value += `;q=${String(b.q)}`;
  for (const p of b.params) value += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return value;
}

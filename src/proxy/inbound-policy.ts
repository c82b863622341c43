/**
 * The hop policies checked on a request as it arrives from another domain (issue 15 items 1 and 2,
 * docs/PROXY.md "Policies"): mutual TLS with the From domain certified (draft-gurbani 5.2, as
 * reSIProcate's CertificateAuthenticator does), the optional reverse-DNS check (5.2), and the Via
 * trail (5.5). "From another domain" means the From URI's host is not one of ours: requests of
 * local users are the registrar's and the authorizer's business, not these checks'.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { weakestState, type DnssecState } from '../dns/dnssec-state.js';
import { reverseName } from '../dns/dns-name.js';
import type { DnsAnswer } from '../dns/records.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { SipRequest } from '../sip/message.js';
import type { Via } from '../sip/via.js';
import { matchExtractedIdentities, type IdentitySource } from '../tls/identity.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { isSecureTransport, type TransportContext } from '../transport/transport-context.js';
import type { HopPolicies, InboundPolicy, LocalDomains, PolicyDecision } from './contracts.js';
import { silentProxyLogger, type ProxyLogger } from './proxy-log.js';
import type { HopPolicyWord } from './routing-words.js';

export interface HopInboundPolicyOptions {
  readonly policies: HopPolicies;
  readonly localDomains: LocalDomains;
  /** Asked for PTR and A/AAAA records when `reverse-dns` is on. */
  readonly resolver?: DnsResolver;
  /**
   * Whether a `*.` dNSName or CN identity covers one left-most label (the TLS policy's opt-in,
   * RFC 5922 section 7.2 says no); default false, as the proxy's TLS policy.
   */
  readonly allowWildcard?: boolean;
  /** The reverse-DNS outcome with its DNSSEC state (`reverse-dns-checked`), also when it passes. */
  readonly log?: ProxyLogger;
}

/** The PolicyDecision's evidence for the `policy-refused` log line. */
type Evidence = Record<string, unknown>;

/** What one request from another domain is checked with. */
interface Inbound {
  readonly request: SipRequest;
  readonly context: TransportContext;
  readonly fromDomain: string | undefined;
  readonly evidence: Evidence;
}

export class HopInboundPolicy implements InboundPolicy {
  readonly #options: HopInboundPolicyOptions;

  constructor(options: HopInboundPolicyOptions) {
    if (options.policies.reverseDns && options.resolver === undefined) throw new Error('the reverse-dns policy needs a DNS resolver');
    this.#options = options;
  }

  check(request: SipRequest, context: TransportContext): PolicyDecision | Promise<PolicyDecision> {
    const policies = this.#options.policies;
    if (!policies.mutualTls && !policies.viaTrail && !policies.reverseDns) return PASS;
    const fromDomain = fromHostOf(request);
    if (fromDomain !== undefined && this.#options.localDomains.isLocal(fromDomain)) return PASS;
    const peer = context.peer;
    const inbound: Inbound = { request, context, fromDomain, evidence: evidenceOf(request, context, fromDomain) };
    if (policies.mutualTls) {
      const refusal = this.#mutualTls(inbound);
      if (refusal !== undefined) return refusal;
    }
    // The checks below compare with a verified certificate: without one (mutual-tls off, a plain
    // hop) there is nothing to compare with, and mutual-tls is the policy that refuses that.
    if (!isSecureTransport(context.transport) || peer?.authenticated !== true) return PASS;
    if (policies.viaTrail) {
      const refusal = this.#viaTrail(inbound, peer);
      if (refusal !== undefined) return refusal;
    }
    if (policies.reverseDns) return this.#reverseDns(inbound, peer);
    return PASS;
  }

  /** draft-gurbani 5.2: mutual TLS, and the From domain one the certificate speaks for. */
  #mutualTls(inbound: Inbound): PolicyDecision | undefined {
    const { context, fromDomain, evidence } = inbound;
    if (!isSecureTransport(context.transport)) {
      return refuse('no-client-certificate', `a request from another domain must come over mutual TLS, not ${context.transport.toUpperCase()}`, evidence);
    }
    const peer = context.peer;
    if (peer?.authenticated !== true) {
      const why = peer === undefined ? 'no client certificate could be verified'
        : peer.chain.length === 0 ? 'no client certificate was presented'
        : `the client certificate is not verified (${peer.reasons.map((r) => r.code).join(', ') || 'no reason'})`;
      return refuse('no-client-certificate', `${why}: a request from another domain needs a verified SIP domain certificate`, { ...evidence, peerReasons: peer?.reasons.map((r) => r.code) ?? [] });
    }
    if (fromDomain === undefined) {
      return refuse('from-domain-not-certified', 'the From URI names no SIP domain the certificate could speak for', evidence);
    }
    if (this.#covers(peer, fromDomain)) return undefined;
    const allowedBy = peer.peerIdentities.find((identity) => this.#options.policies.peers.get(identity)?.includes(fromDomain) === true);
    if (allowedBy !== undefined) return undefined;
    return refuse('from-domain-not-certified', `the From domain ${fromDomain} is not an identity of the peer's certificate, nor allowed for it by policy.peers`, evidence);
  }

  /** draft-gurbani 5.5: the top Via names, as a host name, the peer the certificate proved. */
  #viaTrail(inbound: Inbound, peer: PeerVerdict): PolicyDecision | undefined {
    const via = topViaOf(inbound.request);
    if (via === undefined) return refuse('via-sent-by-mismatch', 'the top Via cannot be read', inbound.evidence);
    if (via.hostKind !== 'domain') {
      return refuse('via-sent-by-mismatch', `the top Via sent-by ${via.host} is an IP address, which no certificate proves: send a host name the certificate covers`, inbound.evidence);
    }
    if (this.#covers(peer, via.host)) return undefined;
    return refuse('via-sent-by-mismatch', `the top Via sent-by ${via.host} is not an identity of the peer's certificate`, inbound.evidence);
  }

  /** draft-gurbani 5.2 (optional): the source address's PTR name, forward-confirmed, is a certificate identity. */
  async #reverseDns(inbound: Inbound, peer: PeerVerdict): Promise<PolicyDecision> {
    const resolver = this.#options.resolver as DnsResolver;
    const address = unmappedAddress(inbound.context.remote.address);
    const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
    if (family === undefined) return refuse('reverse-dns-mismatch', `the source address ${address} is not an IP address`, inbound.evidence);
    const ptr = await resolver.query(reverseName(address, family), 'PTR');
    const states: DnssecState[] = [ptr.state];
    const names = ptr.kind === 'records' ? [...new Set(ptr.records.map((r) => r.name))] : [];
    // Only names the certificate proves are worth a forward look-up: that bounds the questions by
    // the certificate, whatever the PTR RRset holds.
    const certified = names.filter((name) => this.#covers(peer, name));
    const forward: Array<{ name: string; addresses: string[]; outcome: string }> = [];
    let confirmed: string | undefined;
    for (const name of certified) {
      const answer = await resolver.query(name, family === 4 ? 'A' : 'AAAA');
      states.push(answer.state);
      const addresses = answer.kind === 'records' ? answer.records.map((r) => r.address) : [];
      forward.push({ name, addresses, outcome: outcomeOf(answer) });
      if (answer.kind === 'records' && addresses.some((a) => sameAddress(a, address))) {
        confirmed = name;
        break;
      }
    }
    const dnssec = weakestState(states);
    const found = { address, ptr: outcomeOf(ptr), ptrNames: names, forward, dnssec };
    this.#log('info', 'reverse-dns-checked', { ...found, confirmed: confirmed ?? null, peerIdentities: peer.peerIdentities });
    if (confirmed !== undefined && dnssec !== 'bogus') return PASS;
    const text =
      dnssec === 'bogus' ? `the reverse DNS of ${address} is bogus (DNSSEC validation failed)`
      : ptr.kind === 'failure' ? `the PTR look-up of ${address} failed (${ptr.failure})`
      : names.length === 0 ? `${address} has no PTR name`
      : certified.length === 0 ? `the PTR name of ${address} (${names.join(', ')}) is not an identity of the peer's certificate`
      : `the PTR name ${certified.join(', ')} does not resolve back to ${address}`;
    return refuse('reverse-dns-mismatch', text, { ...inbound.evidence, reverseDns: found });
  }

  #covers(peer: PeerVerdict, name: string): boolean {
    // A verdict that names no source (DANE-EE) gets the strictest reading: no wildcards.
    const source: IdentitySource = peer.identitySource ?? 'san-uri';
    return matchExtractedIdentities({ identities: peer.peerIdentities, source }, name, { allowWildcard: this.#options.allowWildcard === true }).matched;
  }

  #log(level: 'info', event: string, fields: Readonly<Record<string, unknown>>): void {
    (this.#options.log ?? silentProxyLogger)(level, event, fields);
  }
}

const PASS: PolicyDecision = Object.freeze({ kind: 'pass' });

function refuse(word: HopPolicyWord, text: string, evidence: Evidence): PolicyDecision {
  return { kind: 'refuse', status: 403, reasonPhrase: 'Forbidden', word, text, evidence };
}

/** The peer identities, the From, the top Via and the source: what an operator compares. */
function evidenceOf(request: SipRequest, context: TransportContext, fromDomain: string | undefined): Evidence {
  const peer = context.peer;
  return {
    peerIdentities: peer?.peerIdentities ?? [],
    peerAuthenticated: peer?.authenticated ?? false,
    from: request.header('from') ?? null,
    fromDomain: fromDomain ?? null,
    via: request.header('via')?.split(',')[0]?.trim() ?? null,
    source: `${context.remote.address}:${context.remote.port}`,
  };
}

/** The From URI's host, lower case; undefined for a URI without one (tel:) or a From that does not parse. */
function fromHostOf(request: SipRequest): string | undefined {
  try {
    const uri = request.from().uri;
    return uri.type === 'sip' ? uri.host.toLowerCase().replace(/\.$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function topViaOf(request: SipRequest): Via | undefined {
  try {
    return request.topVia();
  } catch {
    return undefined;
  }
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; its PTR is that of a.b.c.d. */
function unmappedAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

function sameAddress(a: string, b: string): boolean {
  if (isIPv6(a) && isIPv6(b)) return new URL(`http://[${a}]/`).hostname === new URL(`http://[${b}]/`).hostname;
  return a === b;
}

function outcomeOf(answer: DnsAnswer): string {
  return answer.kind === 'failure' ? `${answer.failure} (${answer.state})` : `${answer.kind} (${answer.state})`;
}

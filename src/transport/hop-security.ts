import { createHash } from 'node:crypto';
import { resolveTlsPolicy, type TlsPolicy } from '../tls/policy.js';
import { TransportConfigError, type ClientCertificate, type SecurityRequirement } from './transport-context.js';

/** A SecurityRequirement with the layer's defaults filled in, and the key connection reuse compares. */
export interface HopSecurity {
  readonly tlsRequired: boolean;
  readonly clientCertificate: ClientCertificate | undefined;
  readonly policy: TlsPolicy;
  readonly acceptedIdentities: readonly string[];
  /**
   * Equal for two requirements exactly when a connection opened under one may carry a send under
   * the other: same client certificate (or none), same resolved policy, same accepted identities.
   */
  readonly reuseKey: string;
}

/**
 * Resolves the per-send security requirement (DESIGN rule 2) over the layer's defaults. The
 * defaults' resolution is done once; a requirement that names only `tls` costs nothing more, and
 * requirement objects reused across sends (as a proxy keeps one per peer) are resolved once.
 */
export class HopSecurityResolver {
  readonly #defaults: HopSecurity;
  readonly #resolved = new WeakMap<SecurityRequirement, HopSecurity>();
  readonly #certificateIds = new WeakMap<ClientCertificate, string>();

  constructor(policy: TlsPolicy, clientCertificate: ClientCertificate | undefined) {
    this.#defaults = this.#make(false, clientCertificate, policy, []);
  }

  resolve(requirement: SecurityRequirement | undefined): HopSecurity {
    if (requirement === undefined) return this.#defaults;
    const cached = this.#resolved.get(requirement);
    if (cached !== undefined) return cached;
    const tls: unknown = requirement.tls;
    if (tls !== undefined && tls !== 'required' && tls !== 'preferred') throw new TransportConfigError('security.tls', `must be 'required' or 'preferred', not ${JSON.stringify(tls) ?? typeof tls}`);
    const certificate: unknown = requirement.clientCertificate;
    if (certificate !== undefined && certificate !== 'none' && !isCertificate(certificate)) throw new TransportConfigError('security.clientCertificate', "must be { cert, key } (PEM strings) or 'none'");
    const accepted: unknown = requirement.acceptedIdentities ?? [];
    if (!Array.isArray(accepted) || accepted.some((a) => typeof a !== 'string' || a === '')) throw new TransportConfigError('security.acceptedIdentities', 'must be an array of domain names');
    const resolved = this.#make(
      tls === 'required',
      requirement.clientCertificate === undefined ? this.#defaults.clientCertificate : requirement.clientCertificate === 'none' ? undefined : requirement.clientCertificate,
      requirement.tlsPolicy === undefined ? this.#defaults.policy : resolveTlsPolicy({ ...this.#defaults.policy, ...requirement.tlsPolicy }),
      (accepted as string[]).map(normalizeDomain),
    );
    this.#resolved.set(requirement, resolved);
    return resolved;
  }

  #make(tlsRequired: boolean, clientCertificate: ClientCertificate | undefined, policy: TlsPolicy, acceptedIdentities: readonly string[]): HopSecurity {
    const certificateId = clientCertificate === undefined ? 'none' : this.#certificateId(clientCertificate);
    const reuseKey = `${certificateId}|${JSON.stringify(policy)}|${[...acceptedIdentities].sort().join(',')}`;
    return { tlsRequired, clientCertificate, policy, acceptedIdentities, reuseKey };
  }

  /** The certificate chain's digest: two objects with the same PEM are the same certificate. */
  #certificateId(certificate: ClientCertificate): string {
    let id = this.#certificateIds.get(certificate);
    if (id === undefined) {
      id = createHash('sha256').update(certificate.cert).digest('hex');
      this.#certificateIds.set(certificate, id);
    }
    return id;
  }
}

/** A SIP domain as the connection table keys it: lower case, no trailing dot. */
export function normalizeDomain(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

function isCertificate(value: unknown): value is ClientCertificate {
  return typeof value === 'object' && value !== null && typeof (value as { cert?: unknown }).cert === 'string' && typeof (value as { key?: unknown }).key === 'string';
}

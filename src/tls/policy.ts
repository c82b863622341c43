/**
 * How strictly a peer is verified. The default is strict; every field is documented in
 * docs/TLS-VERIFICATION.md. Merge user options with resolveTlsPolicy once, at construction.
 */
import { TLS_LIMITS } from '../limits.js';
import { BadPolicyError } from './errors.js';
import type { DigestName } from './tlsa.js';

export interface TlsPolicy {
  /**
   * What to do with a certificate that chains to a trusted CA but holds no identity at all
   * (draft-gurbani A.2.2). `strict`: the hop fails. `lenient`: the verdict is
   * `{ ok: false, authenticated: false, proceed: true }`, i.e. continue encrypted but unauthenticated.
   * Every other failure (wrong name, expired, unknown CA, DANE) fails in both modes.
   */
  readonly mode: 'strict' | 'lenient';
  /** Let a single left-most `*` label of a dNSName or CN match (never a sip URI); flagged in the verdict. */
  readonly allowWildcard: boolean;
  /** Largest depth (leaf = 0) of the trust anchor (draft-gurbani A.3). */
  readonly maxChainDepth: number;
  /** Use DANE when the DNS chain and the TLSA RRset are DNSSEC-secure. */
  readonly dane: boolean;
  /**
   * A secure TLSA RRset with no usable record: `fail` (RFC 7671 section 4.3, authentication is
   * required for sips/TLS SIP hops) or `rfc5922` (RFC 6698 section 4.1: as if there were no TLSA).
   */
  readonly onNoUsableTlsa: 'fail' | 'rfc5922';
  /** Accept TLSA usages 0 and 1 (PKIX-TA, PKIX-EE), which also need the trust store (RFC 7671 4.3.1 lets non-PKIX protocols drop them). */
  readonly pkixTlsaUsages: boolean;
  /** Supported digests, strongest first, for matching types 1 and 2 and digest agility (RFC 7671 section 9). */
  readonly digestPreference: readonly DigestName[];
  /** Check names on a DANE-EE match too. RFC 7671 section 5.1 says no (default); OpenSSL's default is yes. */
  readonly daneEeChecksNames: boolean;
  /** Use a DANE-TA `2 0 0` certificate or `2 1 0` key from DNS as the anchor even when the server does not send it (RFC 7671 5.2.2-5.2.3). */
  readonly daneTaFromDns: boolean;
  /** Signature checks one verification may spend building paths. */
  readonly maxSignatureChecks: number;
  /** Certificates a peer may present. */
  readonly maxPresentedCertificates: number;
}

export const DEFAULT_TLS_POLICY: TlsPolicy = Object.freeze({
  mode: 'strict',
  allowWildcard: false,
  maxChainDepth: TLS_LIMITS.maxChainDepth,
  dane: true,
  onNoUsableTlsa: 'fail',
  pkixTlsaUsages: true,
  digestPreference: Object.freeze(['sha2-512', 'sha2-256'] as const),
  daneEeChecksNames: false,
  daneTaFromDns: true,
  maxSignatureChecks: TLS_LIMITS.maxSignatureChecks,
  maxPresentedCertificates: TLS_LIMITS.maxPresentedCertificates,
});

/** Merges options over the defaults and validates every field; throws BadPolicyError naming the field. */
export function resolveTlsPolicy(options: Partial<TlsPolicy> = {}): TlsPolicy {
  const policy: TlsPolicy = { ...DEFAULT_TLS_POLICY, ...stripUndefined(options) };
  if (policy.mode !== 'strict' && policy.mode !== 'lenient') throw new BadPolicyError('mode', `must be 'strict' or 'lenient', not ${String(policy.mode)}`);
  if (policy.onNoUsableTlsa !== 'fail' && policy.onNoUsableTlsa !== 'rfc5922') throw new BadPolicyError('onNoUsableTlsa', "must be 'fail' or 'rfc5922'");
  for (const field of ['maxChainDepth', 'maxSignatureChecks', 'maxPresentedCertificates'] as const) {
    const value = policy[field];
    if (!Number.isInteger(value) || value < 1 || value > 1000) throw new BadPolicyError(field, `must be an integer from 1 to 1000, not ${String(value)}`);
  }
  for (const field of ['allowWildcard', 'dane', 'pkixTlsaUsages', 'daneEeChecksNames', 'daneTaFromDns'] as const) {
    if (typeof policy[field] !== 'boolean') throw new BadPolicyError(field, 'must be a boolean');
  }
  if (!Array.isArray(policy.digestPreference) || policy.digestPreference.some((d) => d !== 'sha2-256' && d !== 'sha2-512')) {
    throw new BadPolicyError('digestPreference', "must list 'sha2-512' and/or 'sha2-256'");
  }
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

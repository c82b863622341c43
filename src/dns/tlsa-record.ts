import type { DnssecState } from './dnssec-state.js';

/**
 * One TLSA resource record (RFC 6698 section 2.1). The three fields are the protocol numbers as
 * received: values sipsec does not know stay representable so that they can be ignored as
 * "unusable" (RFC 7671 section 4) rather than rejected at parse time.
 */
export interface TlsaRecord {
  /** Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. */
  readonly usage: number;
  /** Selector: 0 full certificate, 1 SubjectPublicKeyInfo. */
  readonly selector: number;
  /** Matching type: 0 exact, 1 SHA-256, 2 SHA-512. */
  readonly matchingType: number;
  /** Certificate association data. */
  readonly data: Uint8Array;
}

/** The TLSA RRset at `_port._tcp.host` with the DNSSEC state of its lookup (or of its denial). */
export interface TlsaRrset {
  /** The owner name that was queried, e.g. `_5061._tcp.sip.example.com`. */
  readonly name: string;
  readonly state: DnssecState;
  /** Empty when the name has no TLSA records (NXDOMAIN or NODATA). */
  readonly records: readonly TlsaRecord[];
  /** The validator's reason when `state` is `bogus` or `indeterminate`. */
  readonly why?: string;
}

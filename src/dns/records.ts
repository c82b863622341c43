import type { DnssecState } from './dnssec-state.js';
import type { TlsaRecord } from './tlsa-record.js';

/** The record types the resolvers answer (CNAME chains are followed, never asked for). */
export type DnsRecordType = 'A' | 'AAAA' | 'NAPTR' | 'SRV' | 'TLSA' | 'PTR';

/** Wire values of the record types (RFC 1035, RFC 2782, RFC 3403, RFC 3596, RFC 6698). */
export const RECORD_TYPE_CODES: Readonly<Record<DnsRecordType, number>> = {
  A: 1,
  PTR: 12,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  TLSA: 52,
};

export interface AddressRecord {
  readonly address: string;
}

/** RFC 3403 section 4.1. */
export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly services: string;
  readonly regexp: string;
  /** Without the trailing dot, lowercase; `''` for the root. */
  readonly replacement: string;
}

/** RFC 2782. */
export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  /** Without the trailing dot, lowercase; `''` for the root ("service not available here"). */
  readonly target: string;
}

export interface PtrRecord {
  readonly name: string;
}

export interface RecordByType {
  readonly A: AddressRecord;
  readonly AAAA: AddressRecord;
  readonly NAPTR: NaptrRecord;
  readonly SRV: SrvRecord;
  readonly TLSA: TlsaRecord;
  readonly PTR: PtrRecord;
}

/** One link of a CNAME chain as it appeared in the answer. */
export interface CnameLink {
  readonly from: string;
  readonly to: string;
}

/**
 * Why an answer could not be had. `bogus`: the validator's chain of trust failed. The others leave
 * the state `indeterminate`: the answer is unknown, which is never the same as "no records".
 */
export type DnsFailure =
  | 'bogus'
  | 'servfail'
  | 'refused'
  | 'timeout'
  | 'network'
  | 'malformed'
  | 'cname-chain-too-long'
  | 'rcode';

interface AnswerBase<T extends DnsRecordType> {
  /** The name asked for: lowercase, no trailing dot. */
  readonly name: string;
  readonly type: T;
  /** The CNAME chain followed from `name`, in order (empty when there was none or it is unknown). */
  readonly cnames: readonly CnameLink[];
  /** Explanation, e.g. the validator's reason for `bogus`, or why a backend cannot validate. */
  readonly why?: string;
}

/**
 * One answer and its DNSSEC state (RFC 4035 section 4.3). The state of an answer reached through
 * CNAMEs is that of its weakest link. `bogus` and `indeterminate` answers never carry records, so
 * forged data cannot be used by mistake; a denial (`nxdomain`, `nodata`) is `secure` only when it
 * was proven.
 */
export type DnsAnswer<T extends DnsRecordType = DnsRecordType> =
  | (AnswerBase<T> & {
      readonly kind: 'records';
      readonly state: 'secure' | 'insecure';
      readonly records: readonly RecordByType[T][];
      readonly ttlSeconds: number;
    })
  | (AnswerBase<T> & {
      readonly kind: 'nxdomain' | 'nodata';
      readonly state: 'secure' | 'insecure';
      readonly ttlSeconds: number;
    })
  | (AnswerBase<T> & {
      readonly kind: 'failure';
      readonly state: Extract<DnssecState, 'bogus' | 'indeterminate'>;
      readonly failure: DnsFailure;
      readonly why: string;
    });

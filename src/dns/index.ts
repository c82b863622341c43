/**
 * The public API of the DNS layer: resolvers whose every answer carries its DNSSEC state, the
 * RFC 3263 locator and the TLSA lookup. See docs/DNS.md.
 */
export { createResolver, type DnsConfig, type CreateResolverDeps } from './create-resolver.js';
export { CachingResolver, type DnsResolver, type ResolverOptions, type ResolverStats } from './resolver.js';
export type { DnsBackend, DnsBackendName } from './backend.js';
export type {
  AddressRecord, CnameLink, DnsAnswer, DnsFailure, DnsRecordType, NaptrRecord, PtrRecord, RecordByType, SrvRecord,
} from './records.js';
export { weakestState, type DnssecState } from './dnssec-state.js';
export type { TlsaRecord, TlsaRrset } from './tlsa-record.js';
export { lookupTlsa, lookupTlsaForTarget, tlsaName } from './tlsa-lookup.js';
export {
  locate, PROXY_LOCATE_OPTIONS, isSendableTarget, sendableTargets,
  type LocateInput, type LocateOptions, type LocateResult, type LocatedTarget, type LookupStep, type SendableTarget, type SendableTransport,
} from './locator.js';
export { locateInputOf } from './locate-uri.js';
export { defaultPort, isTlsTransport, srvPrefix, type SipTransport } from './sip-transport.js';
export { orderSrv } from './srv-order.js';
export { selectNaptr, type SelectedNaptr } from './naptr-select.js';
export { checkDnsName, normalizeName, reverseName } from './dns-name.js';
export { DnsError, DnsConfigError, type DnsErrorCode } from './errors.js';
export { DEBIAN_ROOT_ANCHOR_FILE, INSTALL_UNBOUND_HINT, type UnboundBackendConfig } from './unbound-backend.js';
export type { AdBitBackendConfig } from './ad-bit-backend.js';
export type { SystemBackendConfig } from './system-backend.js';

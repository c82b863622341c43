/**
 * sipsec: SIP signalling security. The library entry re-exports the public API of each layer.
 */
export { SIP_LIMITS, type SipLimits } from './limits.js';
export { parseMessage, inspectMessage, InvalidMessageError, type ParseOptions, type ParseResult } from './sip/parse-message.js';
export { serializeMessage } from './sip/serialize-message.js';
export { SipRequest, SipResponse, type SipMessage, type HeaderField } from './sip/message.js';
export { StreamFramer, FramingError, type FramedItem } from './sip/stream-framer.js';
export { parseUri, parseSipUri, uriEquals, SipUri, TelUri, AbsoluteUri, type Uri, type UriParam } from './sip/uri.js';
export { SipParseError, responseForFault, type SipFault, type SipFaultCode, type FaultResponse } from './sip/errors.js';
export { parseNameAddr, serializeNameAddr, tagOf, type NameAddr, type ContactValue } from './sip/name-addr.js';
export { parseVia, serializeVia, branchOf, BRANCH_MAGIC_COOKIE, type Via } from './sip/via.js';
export { paramValue, type HeaderParam } from './sip/header-scanner.js';
export type { CSeq } from './sip/scalar-headers.js';
export type { ContentType } from './sip/content-type.js';
export type { Warning, Reason } from './sip/warning-reason.js';
export type { AuthValue } from './sip/auth-headers.js';
export type { DnssecState } from './dns/dnssec-state.js';
export type { TlsaRecord, TlsaRrset } from './dns/tlsa-record.js';

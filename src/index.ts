/**
 * sipsec: SIP signalling security. The library entry re-exports the public API of each layer.
 */
export { SIP_LIMITS, TLS_LIMITS, DNS_LIMITS, TX_TIMERS, TX_LIMITS, TRANSPORT_LIMITS, type SipLimits } from './limits.js';
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
export { verifyServer, verifyClient, verifyDane, verifyRfc5922, type ServerTarget } from './tls/verify-peer.js';
export { renderVerdict, type PeerVerdict, type VerificationMethod } from './tls/verdict.js';
export { TrustStore } from './tls/trust-store.js';
export { resolveTlsPolicy, DEFAULT_TLS_POLICY, type TlsPolicy } from './tls/policy.js';
export { connectAndVerify } from './transport/tls-connect.js';
export { TransportLayer, type TransportLayerOptions, type ListenerSpec } from './transport/transport-layer.js';
export { TransportError, TransportConfigError, type TransportContext, type Destination, type TransportProtocol, type SecurityRequirement, type ClientCertificate } from './transport/transport-context.js';
export {
  TransactionLayer, ClientTransaction, ServerTransaction, toFailure,
  type TransactionLayerOptions, type ClientTransactionHandlers, type ResponseInfo, type ResponseOrigin, type CallbackErrorReport,
} from './transaction/transaction-layer.js';
export { TransactionError } from './transaction/errors.js';
export { buildResponse, buildTransportFailureResponse } from './transaction/local-response.js';
export { buildAckForNon2xx, buildCancel } from './transaction/ack-request.js';
export { responseDestination } from './transaction/response-destination.js';
export { VirtualClock } from './transaction/virtual-clock.js';
export { systemClock, type Clock } from './transaction/clock.js';
export type { TransportFailure } from './transaction/fsm.js';
export { Responder, type ResponderOptions } from './ua/responder.js';
export { SipStack, type SipStackOptions, type StackTransactionOptions, type TransactionUser } from './ua/sip-stack.js';
export { buildRequest } from './ua/build-request.js';
export { requestOnce, type RequestOnceOptions, type RequestOnceResult, type RequestOutcome } from './ua/request-once.js';
export {
  destinationsFor, directDestination, transportOf, DEFAULT_PORT,
  type DestinationsOptions, type DestinationsResult, type LocatedDestination,
} from './ua/destinations.js';
export {
  sendWithFailover, failsOver, failoverLoop, type FailoverOptions, type FailoverResult, type FailoverAttempt,
} from './ua/failover.js';
export { referenceNames, srvHostIsIdentity } from './dns/srv-identity.js';
export * from './dns/index.js';

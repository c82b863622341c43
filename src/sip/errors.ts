/**
 * Faults found in SIP messages. A fault names what is wrong (a stable code an operator can grep)
 * and, for a request, the response a server should send (RFC 3261 section 21).
 */
export type SipFaultCode =
  | 'SIP_ERR_EMPTY'
  | 'SIP_ERR_MESSAGE_TOO_LARGE'
  | 'SIP_ERR_TOO_MANY_HEADERS'
  | 'SIP_ERR_LINE_TOO_LONG'
  | 'SIP_ERR_TOO_MANY_VALUES'
  | 'SIP_ERR_NO_HEADER_END'
  | 'SIP_ERR_BAD_START_LINE'
  | 'SIP_ERR_BAD_VERSION'
  | 'SIP_ERR_BAD_METHOD'
  | 'SIP_ERR_BAD_STATUS'
  | 'SIP_ERR_BAD_REQUEST_URI'
  | 'SIP_ERR_BAD_URI'
  | 'SIP_ERR_BAD_HEADER_NAME'
  | 'SIP_ERR_BAD_HEADER_VALUE'
  | 'SIP_ERR_MISSING_HEADER'
  | 'SIP_ERR_DUPLICATE_HEADER'
  | 'SIP_ERR_CSEQ_METHOD_MISMATCH'
  | 'SIP_ERR_VALUE_OUT_OF_RANGE'
  | 'SIP_ERR_BAD_CONTENT_LENGTH'
  | 'SIP_ERR_BODY_TRUNCATED';

/** One thing wrong with a message, as evidence: the code, the header it sits in, and detail. */
export interface SipFault {
  readonly code: SipFaultCode;
  /** Canonical (lower-case, long form) name of the header at fault, when a header is. */
  readonly header?: string;
  readonly detail: string;
}

/** The response a server sends to an invalid request (RFC 3261 sections 8.2, 16.3, 21). */
export interface FaultResponse {
  readonly status: number;
  readonly reason: string;
}

/** Thrown when text is not a valid SIP element (URI, header value, message). */
export class SipParseError extends Error {
  readonly code: SipFaultCode;
  readonly header: string | undefined;
  readonly detail: string;

  constructor(code: SipFaultCode, detail: string, header?: string) {
    // Details quote the peer's text: escaped and bounded here, once for every reader.
    const safeDetail = boundedDetail(detail);
    const safeHeader = header === undefined ? undefined : boundedDetail(header);
    super(safeHeader === undefined ? `${code}: ${safeDetail}` : `${code} in ${safeHeader}: ${safeDetail}`);
    this.name = 'SipParseError';
    this.code = code;
    this.detail = safeDetail;
    this.header = safeHeader;
  }

  toFault(): SipFault {
    return this.header === undefined
      ? { code: this.code, detail: this.detail }
      : { code: this.code, header: this.header, detail: this.detail };
  }
}

/** The longest detail a fault carries; peer text quoted in it is cut to fit. */
export const MAX_DETAIL_CHARS = 200;

/**
 * Text for a fault's detail or a log field when it may hold the peer's bytes: printable ASCII
 * kept, every other character (controls, DEL, non-ASCII, backslash) written as a \xHH or \u{H}
 * escape, and the result cut at `max` characters with `...` so that no input makes it large.
 */
export function boundedDetail(text: string, max = MAX_DETAIL_CHARS): string {
  let out = '';
  const n = Math.min(text.length, max);
  let i = 0;
  for (; i < n && out.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c < 127 && c !== 92 && c !== 34) out += text[i];
    else if (c < 256) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return i < text.length || out.length > max ? `${out.slice(0, max - 3)}...` : out;
}

/**
 * The status a server answers for a request with this fault. The reason phrase names the fault so
 * that the sender can tell what to fix (RFC 3261 section 21.4.1 lets the phrase vary). It is made
 * of fixed words only, and names a header only when it is one sipsec knows: never the peer's
 * bytes, which could forge a status line or a log field and make the response too large to send.
 */
export function responseForFault(fault: SipFault, method: string | undefined): FaultResponse {
  switch (fault.code) {
    case 'SIP_ERR_BAD_VERSION':
      return { status: 505, reason: 'Version Not Supported' };
    case 'SIP_ERR_MESSAGE_TOO_LARGE':
      return { status: 513, reason: 'Message Too Large' };
    case 'SIP_ERR_CSEQ_METHOD_MISMATCH':
      // RFC 4475 section 3.1.2.18: an unknown method is answered 501 before the mismatch matters.
      if (method !== undefined && !KNOWN_METHODS.has(method)) return { status: 501, reason: 'Not Implemented' };
      return { status: 400, reason: 'Bad Request (CSeq method does not match the request method)' };
    default:
      return { status: 400, reason: `Bad Request (${faultPhrase(fault)})` };
  }
}

function faultPhrase(fault: SipFault): string {
  const what = FAULT_WORDS[fault.code];
  const header = fault.header === undefined ? undefined : PHRASE_HEADER_NAMES.get(fault.header);
  // 'invalid Content-Length' names its header already.
  return header === undefined || what.endsWith(header) ? what : `${what}: ${header}`;
}

const FAULT_WORDS: Readonly<Record<SipFaultCode, string>> = {
  SIP_ERR_EMPTY: 'empty message',
  SIP_ERR_MESSAGE_TOO_LARGE: 'message too large',
  SIP_ERR_TOO_MANY_HEADERS: 'too many header fields',
  SIP_ERR_LINE_TOO_LONG: 'header line too long',
  SIP_ERR_TOO_MANY_VALUES: 'too many header values',
  SIP_ERR_NO_HEADER_END: 'header section not terminated',
  SIP_ERR_BAD_START_LINE: 'malformed start line',
  SIP_ERR_BAD_VERSION: 'unsupported SIP version',
  SIP_ERR_BAD_METHOD: 'malformed method',
  SIP_ERR_BAD_STATUS: 'malformed status code',
  SIP_ERR_BAD_REQUEST_URI: 'malformed Request-URI',
  SIP_ERR_BAD_URI: 'malformed URI',
  SIP_ERR_BAD_HEADER_NAME: 'malformed header name',
  SIP_ERR_BAD_HEADER_VALUE: 'malformed header',
  SIP_ERR_MISSING_HEADER: 'missing header',
  SIP_ERR_DUPLICATE_HEADER: 'header must appear once',
  SIP_ERR_CSEQ_METHOD_MISMATCH: 'CSeq method mismatch',
  SIP_ERR_VALUE_OUT_OF_RANGE: 'value out of range',
  SIP_ERR_BAD_CONTENT_LENGTH: 'invalid Content-Length',
  SIP_ERR_BODY_TRUNCATED: 'body shorter than Content-Length',
};

/** The headers a reason phrase may name (those sipsec reads), by key, as sipsec spells them. */
const PHRASE_HEADER_NAMES: ReadonlyMap<string, string> = new Map(
  [
    'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires', 'Date',
    'Contact', 'Route', 'Record-Route', 'Require', 'Proxy-Require', 'Supported', 'Unsupported', 'Warning',
    'Reason', 'Authorization', 'Proxy-Authorization', 'WWW-Authenticate', 'Proxy-Authenticate', 'Retry-After',
  ].map((name) => [name.toLowerCase(), name]),
);

/** Methods of RFC 3261 and the extensions a proxy commonly sees. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

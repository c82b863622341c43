import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import { SIP_LIMITS, type SipLimits } from '../limits.js';
import { isSip20At } from './char-codes.js';
import { isIn, isToken, TOKEN, trimLws } from './charsets.js';
import { boundedDetail, responseForFault, SipParseError, type FaultResponse, type SipFault } from './errors.js';
import { bitPosition, HEADER_BIT, headerBit, headerKeyByRule, knownHeaderKeyAt, NAME_ACCEPT, NAME_CLASS, NAME_CLASS_BITS, NAME_START, NAME_STEP } from './header-names.js';
import { newTrackedFields, parseAllTypedHeaders, resetTrackedFields, setHeaderValueLimit, setParseSource, SipRequest, type TrackedFields, SipResponse, type HeaderEncoding, type HeaderField, type SipMessage } from './message.js';
import { parseContentLength } from './scalar-headers.js';
import { parseUri, parseUriAt, type Uri } from './uri.js';

export interface ParseOptions {
  /**
   * `datagram` (default): RFC 3261 section 18.3 for UDP, octets past Content-Length ignored and
   * Content-Length optional. `stream`: the bytes are exactly one framed message (see StreamFramer).
   */
  readonly framing?: 'datagram' | 'stream';
  /**
   * `full` (default) parses and checks every header sipsec types; `lazy` only the start line and
   * what a transaction needs (top Via, CSeq, Call-ID, From and To tags). Other headers are then
   * parsed on first access and may throw there.
   */
  readonly depth?: 'full' | 'lazy';
  readonly limits?: Partial<SipLimits>;
}

/** The outcome of reading one message: a message, or the faults with what a server should answer. */
export type ParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | {
      readonly ok: false;
      readonly faults: readonly SipFault[];
      /** What could be read, for building the error response; undefined when the start line failed. */
      readonly message: SipMessage | undefined;
      readonly kind: 'request' | 'response' | undefined;
      /** For a request, the response to send; responses with faults are dropped (RFC 3261 18.1.2). */
      readonly response: FaultResponse | undefined;
    };

/** Thrown by parseMessage: the first fault's code, every fault, and the response to send. */
export class InvalidMessageError extends Error {
  readonly code: SipFault['code'];
  constructor(
    readonly faults: readonly SipFault[],
    readonly partial: SipMessage | undefined,
    readonly response: FaultResponse | undefined,
  ) {
    const first = faults[0] ?? { code: 'SIP_ERR_EMPTY' as const, detail: 'no fault recorded' };
    // The first few faults: their details are bounded, and a message is not a place for hundreds.
    const shown = faults.slice(0, MESSAGE_FAULTS).map((f) => (f.header === undefined ? f.detail : `${f.header}: ${f.detail}`));
    if (faults.length > MESSAGE_FAULTS) shown.push(`${faults.length - MESSAGE_FAULTS} more`);
    super(`invalid SIP message: ${shown.join('; ')}`);
    this.name = 'InvalidMessageError';
    this.code = first.code;
  }
}

/** How many faults InvalidMessageError's message names; `faults` holds them all. */
const MESSAGE_FAULTS = 5;

/** Parses one SIP message; throws InvalidMessageError naming every fault found. */
export function parseMessage(bytes: Uint8Array, options: ParseOptions = {}): SipMessage {
  const result = inspectMessage(bytes, options);
  if (result.ok) return result.message;
  throw new InvalidMessageError(result.faults, result.message, result.response);
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
/**
 * Messages up to this size are decoded to text whole, body included, in one call; a larger one
 * only as far as its header section, so that a large body is not decoded for nothing.
 */
const WHOLE_TEXT_BYTES = 4096;

/**
 * Where the header section that starts at buf[start] ends (the first CRLFCRLF) and the body
 * starts; without the empty line, a fault (inserted at `faultAt`, so that it comes before the
 * start line's when those were found first) and the header section running to the end.
 * `faults`: how many faults it added.
 */
function locateHeaderEnd(
  buf: Buffer,
  start: number,
  faults: SipFault[],
  faultAt = faults.length,
): { headEnd: number; bodyStart: number; faults: number } {
  let headEnd = buf.indexOf(CRLF_CRLF, start);
  if (headEnd >= 0) return { headEnd, bodyStart: headEnd + 4, faults: 0 };
  faults.splice(faultAt, 0, { code: 'SIP_ERR_NO_HEADER_END', detail: 'no empty line ends the header section' });
  headEnd = buf.length;
  while (headEnd > start && (buf[headEnd - 1] === 10 || buf[headEnd - 1] === 13)) headEnd--;
  return { headEnd, bodyStart: buf.length, faults: 1 };
}

/** The result for a header section over its limit; faults past `keep` (start line) are dropped. */
function headerSectionTooLarge(faults: SipFault[], limits: SipLimits, keep = faults.length): ParseResult {
  faults.length = keep;
  faults.push({ code: 'SIP_ERR_MESSAGE_TOO_LARGE', detail: `header section over ${limits.maxHeaderSectionBytes} bytes` });
  return failed(faults, undefined, undefined);
}

/**
 * Where the splitter found each value and the tracked headers, for the readers that check the
 * message: shared by the parses that do not overlap (one allocation less each), since they are
 * attached to the message only while it is checked (setParseSource). A parse started while
 * another is in progress (a body reader parsing a message/sipfrag inside an accessor) would
 * overwrite what the outer message is still being read by, so it gets fresh scratch: the
 * busy flag below is set on entry and reset in `finally` (undici's client-h1 does the same
 * with its parser).
 */
const VALUE_AT: number[] = [];
const TRACKED: TrackedFields = newTrackedFields();
let scratchBusy = false;

// Buffer.prototype.latin1Slice is what toString('latin1') calls after checking its arguments and
// looking the encoding up, which cost about 5% of a lazy parse (measured). It is undocumented but
// in every Node release (busboy calls it too); without it, toString.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, start: number, end: number) => string }).latin1Slice;

/** The whole of buf as Latin-1 text. */
function decodeLatin1(buf: Buffer): string {
  return latin1Slice === undefined ? buf.toString('latin1') : latin1Slice.call(buf, 0, buf.length);
}

/** Shared by every message without a body; a body is replaced, never written into. */
const NO_BODY: Uint8Array = Buffer.alloc(0);

/** Reads one message and reports every fault as a value; never throws on any input. */
export function inspectMessage(bytes: Uint8Array, options: ParseOptions = {}): ParseResult {
  if (scratchBusy) return inspectWith(bytes, options, [], newTrackedFields());
  scratchBusy = true;
  try {
    return inspectWith(bytes, options, VALUE_AT, TRACKED);
  } finally {
    scratchBusy = false;
  }
}

/** inspectMessage with the scratch it may fill: `valueAt` and `tracked`, owned by this parse until it returns. */
function inspectWith(bytes: Uint8Array, options: ParseOptions, scratchValueAt: number[], tracked: TrackedFields): ParseResult {
  const limits: SipLimits = options.limits === undefined ? SIP_LIMITS : { ...SIP_LIMITS, ...options.limits };
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const faults: SipFault[] = [];
  const framing = options.framing ?? 'datagram';

  let start = 0;
  // RFC 3261 section 7.5: CRLFs before the start line are ignored.
  while (buf[start] === 13 && buf[start + 1] === 10) start += 2;
  if (start >= buf.length) return failed([{ code: 'SIP_ERR_EMPTY', detail: 'no message, only line breaks' }], undefined, undefined);
  if (buf.length > limits.maxMessageBytes) {
    faults.push({ code: 'SIP_ERR_MESSAGE_TOO_LARGE', detail: `${buf.length} bytes, limit ${limits.maxMessageBytes}` });
  }

  // An ASCII message (nearly all are) reads the same in UTF-8 and Latin-1, and Latin-1 decodes
  // without validating; its bytes then hold the text's characters at the same offsets, which the
  // splitter and the typed readers scan (char-codes.ts). A small one is decoded whole, and the
  // splitter finds the empty line that ends its header section on the way. Anything else has its
  // header section located in the bytes and decoded alone.
  const ascii = isAscii(buf);
  const text = ascii && buf.length <= WHOLE_TEXT_BYTES ? decodeLatin1(buf) : undefined;
  let encoding: HeaderEncoding = 'utf8';
  let head: string | undefined;
  let headEnd = -1;
  let bodyStart = buf.length;
  let firstEnd: number;
  let startLine: string;
  if (text !== undefined) {
    firstEnd = text.indexOf('\r\n', start);
    startLine = firstEnd < 0 ? text.slice(start) : text.slice(start, firstEnd);
  } else {
    const located = locateHeaderEnd(buf, start, faults);
    headEnd = located.headEnd;
    bodyStart = located.bodyStart;
    if (headEnd - start > limits.maxHeaderSectionBytes) return headerSectionTooLarge(faults, limits);
    const headBytes = buf.subarray(start, headEnd);
    if (!ascii && !isUtf8(headBytes)) encoding = 'latin1';
    head = headBytes.toString(ascii ? 'latin1' : encoding);
    firstEnd = head.indexOf('\r\n');
    startLine = firstEnd < 0 ? head : head.slice(0, firstEnd);
    // Offsets below are into head, which starts at buf[start].
  }
  // buf holds the header characters one for one (ASCII, or Latin-1 decoded): the fast paths
  // may read it. A UTF-8 head goes to the general reader.
  const codes = ascii || encoding === 'latin1' ? buf : undefined;

  // Faults of the header section's end come before those of the start line, whichever is found
  // first: a decoded text learns its end only after the start line has been read.
  const startLineFaults = faults.length;
  let message: SipMessage;
  const headers: HeaderField[] = [];
  try {
    message = parseStartLine(startLine, headers, encoding, faults, codes, start);
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    faults.push(err.toFault());
    if (text !== undefined) {
      const located = locateHeaderEnd(buf, start, faults, startLineFaults);
      if (located.headEnd - start > limits.maxHeaderSectionBytes) return headerSectionTooLarge(faults, limits, startLineFaults + located.faults);
    }
    return failed(faults, undefined, startLine.startsWith('SIP/') ? 'response' : 'request');
  }

  // Where each value starts in buf, for the typed readers.
  let valueAt: number[] | undefined = codes === undefined ? undefined : scratchValueAt;
  resetTrackedFields(tracked);
  let present = -1;
  if (text !== undefined) {
    // Fields start after the start line; the splitter stops at the empty line, its position in r.
    const stop = firstEnd < 0 ? -1 : splitPlainFields(text, firstEnd + 2, headers, limits, buf, 0, valueAt, true, tracked);
    let headFaults = 0;
    if (stop >= 0) {
      present = tracked.present;
      headEnd = stop - 2;
      bodyStart = headEnd + 4;
    } else {
      const located = locateHeaderEnd(buf, start, faults, startLineFaults);
      headFaults = located.faults;
      headEnd = located.headEnd;
      bodyStart = located.bodyStart;
      head = text.slice(start, headEnd);
      firstEnd -= start;
    }
    // As when the bytes are searched first: over the limit, the start line's faults are not reached.
    if (headEnd - start > limits.maxHeaderSectionBytes) return headerSectionTooLarge(faults, limits, startLineFaults + headFaults);
  } else if (firstEnd >= 0 && codes !== undefined && head !== undefined) {
    if (splitPlainFields(head, firstEnd + 2, headers, limits, codes, start, valueAt, false, tracked) >= 0) present = tracked.present;
  }
  if (present < 0) {
    valueAt = undefined;
    present = 0;
    if (firstEnd >= 0 && head !== undefined) {
      // Something unusual (folding, odd spacing, bare CR or LF, a limit): the general reader decides.
      headers.length = 0;
      splitHeaderFields(head, firstEnd + 2, headers, faults, limits);
      for (const h of headers) present |= headerBit(h.key);
    }
  }

  if (hasControlByte(buf, start, headEnd)) checkControlCharacters(headers, faults, startLine);

  // Framing by Content-Length (RFC 3261 sections 18.3 and 20.14).
  const available = buf.length - bodyStart;
  let bodyLength = available;
  let lengthField: HeaderField | undefined;
  let lengthCount = 0;
  if (valueAt !== undefined && (present & HEADER_BIT['content-length']) !== 0) {
    // The splitter noted where the first is and whether there are more.
    lengthField = headers[tracked.first[bitPosition(HEADER_BIT['content-length'])] ?? -1];
    lengthCount = (tracked.repeated & HEADER_BIT['content-length']) === 0 ? 1 : 2;
  } else if ((present & HEADER_BIT['content-length']) !== 0) {
    for (const h of headers) {
      if (h.key !== 'content-length') continue;
      lengthField ??= h;
      lengthCount++;
    }
  }
  if (lengthField !== undefined && lengthCount === 1) {
    // One Content-Length, as nearly every message has: no set of candidate values to build.
    let declared: number | undefined;
    try {
      declared = parseContentLength(lengthField.value);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      faults.push(err.toFault());
    }
    if (declared !== undefined) {
      if (declared > available) {
        faults.push({ code: 'SIP_ERR_BODY_TRUNCATED', header: 'content-length', detail: `declares ${declared} bytes, ${available} present` });
      } else {
        bodyLength = declared;
      }
    }
  } else if (lengthField !== undefined) {
    const lengthFields = headers.filter((h) => h.key === 'content-length');
    const lengths = new Set<number>();
    for (const field of lengthFields) {
      try {
        lengths.add(parseContentLength(field.value));
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        faults.push(err.toFault());
      }
    }
    if (lengths.size > 1) {
      faults.push({ code: 'SIP_ERR_BAD_CONTENT_LENGTH', header: 'content-length', detail: boundedDetail(`conflicting values ${[...lengths].join(', ')}`) });
    } else if (lengthFields.length > 1) {
      faults.push({ code: 'SIP_ERR_DUPLICATE_HEADER', header: 'content-length', detail: 'appears more than once' });
    }
    const [declared] = lengths;
    if (declared !== undefined && lengths.size === 1) {
      if (declared > available) {
        faults.push({ code: 'SIP_ERR_BODY_TRUNCATED', header: 'content-length', detail: `declares ${declared} bytes, ${available} present` });
      } else {
        bodyLength = declared;
      }
    }
  } else if (framing === 'stream') {
    faults.push({ code: 'SIP_ERR_MISSING_HEADER', header: 'content-length', detail: 'required on stream transports' });
  }
  // A copy, not a view: the message outlives the receive buffer, which transports reuse.
  message.body = bodyLength === 0 ? NO_BODY : Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLength));

  if (limits.maxHeaderValues !== SIP_LIMITS.maxHeaderValues) setHeaderValueLimit(message, limits.maxHeaderValues);
  if (valueAt !== undefined) setParseSource(message, codes, valueAt, tracked);
  try {
    if (options.depth === 'lazy') checkLazy(message, faults, present);
    else checkFull(message, faults, present);
  } finally {
    // The bytes are the caller's, who may reuse them: later reads decode the value strings.
    if (valueAt !== undefined) setParseSource(message, undefined, undefined, undefined);
  }

  return faults.length === 0 ? { ok: true, message } : failed(faults, message, message.kind);
}

function failed(faults: SipFault[], message: SipMessage | undefined, kind: 'request' | 'response' | undefined): ParseResult {
  let response: FaultResponse | undefined;
  if (kind === 'request') {
    const method = message?.kind === 'request' ? message.method : undefined;
    const decisive =
      faults.find((f) => f.code === 'SIP_ERR_BAD_VERSION') ??
      faults.find((f) => f.code === 'SIP_ERR_MESSAGE_TOO_LARGE') ??
      faults[0];
    if (decisive !== undefined) response = responseForFault(decisive, method);
  }
  return { ok: false, faults, message, kind, response };
}

const SIP_VERSION = /^SIP\/(\d+)\.(\d+)$/i;

/**
 * Throws when the version is malformed; returns a fault when it is well-formed but not 2.0, so
 * that the rest of the message is still read and a 505 can be addressed to its sender.
 */
function checkVersion(version: string): SipFault | undefined {
  if (version === 'SIP/2.0') return undefined;
  const m = SIP_VERSION.exec(version);
  if (m === null) throw new SipParseError('SIP_ERR_BAD_START_LINE', `'${version}' is not a SIP version`);
  if (m[1] !== '2' || m[2] !== '0') return { code: 'SIP_ERR_BAD_VERSION', detail: boundedDetail(`${version} is not supported, only SIP/2.0`) };
  return undefined;
}

/**
 * The request line as nearly every request writes it, read from codes (`codes[at + i]` is
 * line[i]): a token method, one SP, a URI without SP, and ` SIP/2.0` ending the line. Gives the
 * index of the SP after the method, which the general path would find; -1 for anything else.
 */
function plainRequestMethodEnd(line: string, codes: Uint8Array, at: number): number {
  const token = TOKEN;
  let i = at;
  let c = codes[i] as number;
  while (token[c] === 1) c = codes[++i] as number;
  const sp1 = i - at;
  const sp2 = line.length - 8;
  if (sp1 === 0 || c !== 32 || sp2 <= sp1) return -1;
  if (codes[at + sp2] !== 32 || !isSip20At(codes, at + sp2 + 1)) return -1;
  // The URI between the two must hold no SP: the general path would count more fields.
  return line.indexOf(' ', sp1 + 1) === sp2 ? sp1 : -1;
}

/** Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. */
function parseStartLine(
  line: string,
  headers: HeaderField[],
  encoding: HeaderEncoding,
  faults: SipFault[],
  codes: Uint8Array | undefined,
  at: number,
): SipMessage {
  const first = line.charCodeAt(0);
  if ((first === 83 || first === 115) && (line.startsWith('SIP/') || line.startsWith('sip/'))) {
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 < 0 || sp2 < 0) throw new SipParseError('SIP_ERR_BAD_START_LINE', 'a status line needs version, code and reason');
    const version = line.slice(0, sp1);
    const versionFault = checkVersion(version);
    if (versionFault !== undefined) faults.push(versionFault);
    const code = line.slice(sp1 + 1, sp2);
    if (!/^[1-6]\d\d$/.test(code)) throw new SipParseError('SIP_ERR_BAD_STATUS', `'${code.slice(0, 20)}' is not a status code 100-699`);
    const reason = line.slice(sp2 + 1);
    if (/[\r\n]/.test(reason)) throw new SipParseError('SIP_ERR_BAD_START_LINE', 'line break in the reason phrase');
    return new SipResponse(Number(code), reason, headers, NO_BODY, version === 'SIP/2.0' ? version : version.toUpperCase(), encoding);
  }
  let sp1 = codes === undefined ? -1 : plainRequestMethodEnd(line, codes, at);
  let sp2 = -1;
  // The plain form's method is a token already.
  const plain = sp1 >= 0;
  if (plain) sp2 = line.length - 8;
  else {
    sp1 = line.indexOf(' ');
    sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
      throw new SipParseError('SIP_ERR_BAD_START_LINE', `a request line is 'METHOD URI SIP/2.0' with single spaces; got ${line.split(' ').length} fields`);
    }
  }
  const method = line.slice(0, sp1);
  const uriText = line.slice(sp1 + 1, sp2);
  const version = plain ? 'SIP/2.0' : line.slice(sp2 + 1);
  if (!plain && !isToken(method)) throw new SipParseError('SIP_ERR_BAD_METHOD', `'${method.slice(0, 40)}' is not a token`);
  const versionFault = checkVersion(version);
  if (versionFault !== undefined) faults.push(versionFault);
  let uri: Uri;
  try {
    uri = codes === undefined ? parseUri(uriText) : parseUriAt(uriText, codes, at + sp1 + 1);
  } catch (err) {
    if (err instanceof SipParseError) throw new SipParseError('SIP_ERR_BAD_REQUEST_URI', err.detail);
    throw err;
  }
  if (uri.type === 'sip' && uri.headers.length > 0) {
    // RFC 3261 section 19.1.1 (table 1): headers are not allowed in a Request-URI; never forward them.
    throw new SipParseError('SIP_ERR_BAD_REQUEST_URI', 'URI headers (?...) are not allowed in a Request-URI');
  }
  return new SipRequest(method, uri, headers, NO_BODY, version === 'SIP/2.0' ? version : version.toUpperCase(), encoding);
}

/**
 * The header section as nearly every message writes it: each field `Name: value` (one space after
 * the colon) on one line ending in CRLF, no folding, no CR or LF elsewhere, within the limits. Fills
 * `headers` exactly as splitHeaderFields would and returns true; returns false as soon as a field
 * is anything else, leaving the whole section to splitHeaderFields. One pass, no regular
 * expressions, and the name of a common header is the interned spelling rather than a new string.
 * Names are read from codes (`codes[at + i]` is head[i], see char-codes.ts), line ends with indexOf.
 * With `untilEmptyLine`, head goes on past the header section and the splitter stops at the empty
 * line (declining when there is none); otherwise head ends with the last field.
 * Returns where it stopped (the empty line's CR, or head's end), -1 where it declines. Notes in
 * `tracked` the HEADER_BIT of the headers seen (`present`), where the first of each is and which
 * repeat, so that nobody loops over the fields again to learn which are there. With `valueAt`,
 * also gives where each value starts in codes: valueAt[i] for headers[i].
 */
export function splitPlainFields(
  head: string,
  from: number,
  headers: HeaderField[],
  limits: SipLimits,
  codes: Uint8Array,
  at: number,
  valueAt: number[] | undefined,
  untilEmptyLine: boolean,
  tracked: TrackedFields,
): number {
  // A local, not the imported binding: read on every character.
  const step = NAME_STEP;
  const classOf = NAME_CLASS;
  const n = head.length;
  let pos = from;
  let seen = 0;
  while (pos < n) {
    if (untilEmptyLine && codes[at + pos] === 13 && codes[at + pos + 1] === 10) {
      tracked.present = seen;
      return pos;
    }
    // name = token, ending at the colon; past the head, codes hold the CR of its end. The name
    // automaton checks the token and recognises a known spelling in the same pass.
    const nameStart = at + pos;
    let i = nameStart;
    let c = codes[i] as number;
    let state = NAME_START;
    // `& 255`: past the end of codes, c is undefined, which this makes class 0 (the name ends).
    for (let to = step[state | (classOf[c & 255] as number)] as number; to >= 0; to = step[state | (classOf[c & 255] as number)] as number) {
      state = to;
      c = codes[++i] as number;
    }
    if (i === nameStart || c !== 58 /* : */) return -1;
    // Any spacing but one SP after the colon keeps the raw text: the general reader does that.
    if (codes[i + 1] !== 32) return -1;
    const known = NAME_ACCEPT[state >> NAME_CLASS_BITS];
    const nameEnd = i - at;
    const valueStart = nameEnd + 2;
    // The value runs to the first CR or LF, which must be the CRLF ending the field (a bare CR or
    // LF anywhere is unusual). Two indexOf calls find it: their search is native, and costs less
    // than a byte loop in JavaScript for all but the shortest values (measured on the corpus).
    const end = firstLineBreak(head, valueStart, n);
    let next: number;
    if (end === n) {
      // The last field of a head that ends with it; a text that goes on must reach an empty line.
      if (untilEmptyLine) return -1;
      next = n;
    } else {
      if (codes[at + end] !== 13 || codes[at + end + 1] !== 10) return -1;
      // A field followed by white space continues on the next line (folding).
      const after = codes[at + end + 2];
      if (after === 32 || after === 9) return -1;
      next = end + 2;
    }
    if (end - pos > limits.maxLineBytes || headers.length >= limits.maxHeaderCount) return -1;
    c = codes[at + valueStart] as number;
    if (c === 32 || c === 9) return -1;
    if (end > valueStart) {
      c = codes[at + end - 1] as number;
      if (c === 32 || c === 9) return -1;
    }
    let name: string;
    let key: string;
    let bit: number;
    if (known === undefined) {
      name = head.slice(pos, nameEnd);
      key = headerKeyByRule(name);
      bit = headerBit(key);
    } else {
      name = known.spelling;
      key = known.key;
      bit = known.bit;
    }
    if (bit !== 0) {
      if ((seen & bit) !== 0) tracked.repeated |= bit;
      else tracked.first[bitPosition(bit)] = headers.length;
      seen |= bit;
    }
    // Stored at the end rather than pushed: V8 11 calls a builtin for push here, and not for this.
    headers[headers.length] = { name, key, value: head.slice(valueStart, end) };
    // By field index: a shared list holds a previous message's entries past this one's fields.
    if (valueAt !== undefined) valueAt[headers.length - 1] = at + valueStart;
    pos = next;
  }
  if (untilEmptyLine) return -1;
  tracked.present = seen;
  return n;
}

/** The index of the first CR or LF in head at or after `from`, or n when there is none. */
function firstLineBreak(head: string, from: number, n: number): number {
  const cr = head.indexOf('\r', from);
  const lf = head.indexOf('\n', from);
  if (cr < 0) return lf < 0 ? n : lf;
  return lf < 0 || cr < lf ? cr : lf;
}

/**
 * Splits header fields at CRLF, joins folded continuation lines, and checks names and limits.
 * Scans the header text in place (no per-line copies) because this runs for every field of every
 * message.
 */
export function splitHeaderFields(head: string, from: number, headers: HeaderField[], faults: SipFault[], limits: SipLimits): void {
  const n = head.length;
  let pos = from;
  while (pos < n) {
    // name = token, then HCOLON = *( SP / HTAB ) ":" SWS
    let i = pos;
    while (i < n && isIn(TOKEN, head.charCodeAt(i))) i++;
    const nameEnd = i;
    while (i < n && (head.charCodeAt(i) === 32 || head.charCodeAt(i) === 9)) i++;
    // A field runs to the first CRLF not followed by white space (a folded continuation).
    let end = head.indexOf('\r\n', i);
    let folded = false;
    while (end >= 0 && (head.charCodeAt(end + 2) === 32 || head.charCodeAt(end + 2) === 9)) {
      folded = true;
      end = head.indexOf('\r\n', end + 2);
    }
    if (end < 0) end = n;
    const fieldStart = pos;
    pos = end + 2;
    if (end - fieldStart > limits.maxLineBytes) {
      faults.push({ code: 'SIP_ERR_LINE_TOO_LONG', detail: `a header field of ${end - fieldStart} characters, limit ${limits.maxLineBytes}` });
      continue;
    }
    if (headers.length >= limits.maxHeaderCount) {
      faults.push({ code: 'SIP_ERR_TOO_MANY_HEADERS', detail: `more than ${limits.maxHeaderCount} header fields` });
      return;
    }
    if (nameEnd === fieldStart || head.charCodeAt(i) !== 58 /* : */ || i >= end) {
      const what = head.slice(fieldStart, Math.min(end, fieldStart + 40));
      faults.push({
        code: 'SIP_ERR_BAD_HEADER_NAME',
        detail: boundedDetail(nameEnd === fieldStart || i < end ? `'${what}' is not 'Name: value'` : `'${head.slice(fieldStart, Math.min(nameEnd, fieldStart + 40))}' is not a token`),
      });
      continue;
    }
    const name = head.slice(fieldStart, nameEnd);
    let valueStart = i + 1;
    while (valueStart < end && (head.charCodeAt(valueStart) === 32 || head.charCodeAt(valueStart) === 9)) valueStart++;
    let valueEnd = end;
    while (valueEnd > valueStart && (head.charCodeAt(valueEnd - 1) === 32 || head.charCodeAt(valueEnd - 1) === 9)) valueEnd--;
    // Folding becomes one SP (RFC 3261 section 7.3.1); the joined value is then trimmed of SP and
    // HTAB only, as the unfolded one was.
    const value = folded ? trimLws(head.slice(valueStart, end).replace(/\r\n[ \t]+/g, ' ')) : head.slice(valueStart, valueEnd);
    const key = knownHeaderKeyAt(head, fieldStart, nameEnd) ?? headerKeyByRule(name);
    if (value.includes('\r') || value.includes('\n')) {
      faults.push({ code: 'SIP_ERR_BAD_HEADER_VALUE', header: key, detail: 'a bare CR or LF inside the value' });
      continue;
    }
    // A field written exactly `Name: value` serializes back from its parts; keep raw text only otherwise.
    const canonical = !folded && valueStart === nameEnd + 2 && valueEnd === end && head.charCodeAt(nameEnd) === 58 && head.charCodeAt(nameEnd + 1) === 32;
    headers.push(canonical ? { name, key, value } : { name, key, value, raw: head.slice(fieldStart, end) });
  }
}

/**
 * No control character but HTAB in the start line or a header, except escaped in a quoted string
 * (RFC 3261 section 25.1: TEXT-UTF8 and the reason phrase exclude them, quoted-pair allows them;
 * RFC 4475 section 3.1.1.2 has one). A proxy forwards what it accepts, and a bare NUL, ESC or BEL
 * passed on reaches parsers that stop at NUL and terminals that obey ESC. One native scan of the
 * section; fields are looked at only when it found something.
 */
function checkControlCharacters(headers: readonly HeaderField[], faults: SipFault[], startLine: string | undefined): void {
  for (const field of headers) {
    const at = bareControlAt(field.value);
    if (at < 0) continue;
    faults.push({ code: 'SIP_ERR_BAD_HEADER_VALUE', header: field.key, detail: `a control character (0x${field.value.charCodeAt(at).toString(16).padStart(2, '0')}) outside a quoted pair` });
    return;
  }
  if (startLine !== undefined && hasControlCharacter(startLine)) faults.push({ code: 'SIP_ERR_BAD_START_LINE', detail: 'a control character in the start line' });
  // Anywhere else (a header name): the splitters have refused that field already.
}

function isControlByte(c: number): boolean {
  return c < 32 ? c !== 9 && c !== 10 && c !== 13 : c === 127;
}

/**
 * Whether bytes[from, to) hold a control byte (not HTAB, CR or LF): in UTF-8 and Latin-1 alike
 * these are single bytes. Four bytes at a time: a word with no byte under 0x20 and none equal to
 * 0x7f (the "has less than" and "has zero" bit tricks) is passed in a few operations, and only the
 * words holding a line end are looked at byte by byte. This costs about half a byte loop's
 * instructions, and a byte loop as many as a regular expression over the text (callgrind, on the
 * benchmark's INVITE: some 20 instructions a byte).
 */
function hasControlByte(bytes: Uint8Array, from: number, to: number): boolean {
  let i = from;
  const base = bytes.byteOffset;
  while (i < to && ((base + i) & 3) !== 0) if (isControlByte(bytes[i++] as number)) return true;
  const words = (to - i) >> 2;
  if (words > 0) {
    const view = new Int32Array(bytes.buffer, base + i, words);
    for (let w = 0; w < words; w++) {
      const x = view[w] as number;
      const y = x ^ 0x7f7f7f7f;
      if (((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) !== 0) {
        const at = i + w * 4;
        if (isControlByte(bytes[at] as number) || isControlByte(bytes[at + 1] as number) || isControlByte(bytes[at + 2] as number) || isControlByte(bytes[at + 3] as number)) return true;
      }
    }
    i += words * 4;
  }
  for (; i < to; i++) if (isControlByte(bytes[i] as number)) return true;
  return false;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControlByte(text.charCodeAt(i))) return true;
  return false;
}

/** Where the first control character not escaped inside a quoted string is, or -1. */
function bareControlAt(value: string): number {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted && c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 34 /* " */) quoted = !quoted;
    else if (isControlByte(c)) return i;
  }
  return -1;
}

const REQUIRED_IN_REQUESTS = ['to', 'from', 'cseq', 'call-id', 'via'] as const;

/** Full check: every typed header, required headers, CSeq method (RFC 3261 section 8.1.1). */
function checkFull(message: SipMessage, faults: SipFault[], present: number): void {
  for (const err of parseAllTypedHeaders(message)) {
    // Content-Length faults were already recorded by framing.
    if (err.header === 'content-length') continue;
    faults.push(err.toFault());
  }
  checkRequired(message, faults, present);
}

/** `present`: the HEADER_BIT of every header present. */
function checkRequired(message: SipMessage, faults: SipFault[], present: number): void {
  // Max-Forwards is required by RFC 3261 but absent from RFC 2543 requests, which RFC 4475
  // section 3.4.1 asks elements to accept: a proxy adds it when forwarding.
  const seen = present & ALL_REQUIRED;
  if (seen !== ALL_REQUIRED) {
    for (const key of REQUIRED_IN_REQUESTS) {
      if ((seen & HEADER_BIT[key]) === 0) {
        faults.push({ code: 'SIP_ERR_MISSING_HEADER', header: key, detail: 'required header is missing' });
      }
    }
  }
  if (message.kind === 'request' && (seen & HEADER_BIT.cseq) !== 0) {
    try {
      const cseq = message.cseq();
      if (cseq.method !== message.method) {
        faults.push({ code: 'SIP_ERR_CSEQ_METHOD_MISMATCH', header: 'cseq', detail: boundedDetail(`CSeq method ${cseq.method} in a ${message.method} request`) });
      }
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      // a malformed or repeated CSeq is reported by the typed pass (full) or the lazy readers
    }
  }
}

const ALL_REQUIRED = REQUIRED_IN_REQUESTS.reduce((bits, key) => bits | HEADER_BIT[key], 0);

/**
 * Lazy check: only what the transaction layer reads on every message (RFC 3261 section 17.1.3
 * and 17.2.3 keys): top Via, CSeq, Call-ID, From and To tags. Absent headers are left to
 * checkRequired, which names each one.
 */
function checkLazy(message: SipMessage, faults: SipFault[], present: number): void {
  for (let reader = 0; reader < LAZY_READERS; reader++) {
    const needs = LAZY_NEEDS[reader] ?? 0;
    if ((present & needs) !== needs) continue;
    try {
      readLazy(message, reader);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      faults.push(err.toFault());
    }
  }
  checkRequired(message, faults, present);
}

const LAZY_READERS = 5;
// The HEADER_BIT a lazy reader needs present (0: reads regardless), by reader number.
const LAZY_NEEDS = [0, HEADER_BIT.cseq, HEADER_BIT['call-id'], HEADER_BIT.from, HEADER_BIT.to];

/** Lazy reader number `reader`: one switch, no closures, on every message. */
function readLazy(message: SipMessage, reader: number): void {
  switch (reader) {
    case 0:
      message.topVia();
      break;
    case 1:
      message.cseq();
      break;
    case 2:
      message.callId();
      break;
    case 3:
      message.fromTag();
      break;
    default:
      message.toTag();
  }
}

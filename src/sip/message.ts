import { SIP_LIMITS } from '../limits.js';
import { parseAuthValue, type AuthValue } from './auth-headers.js';
import { parseContentType, type ContentType } from './content-type.js';
import { isToken, TOKEN, trimLws } from './charsets.js';
import { SipParseError } from './errors.js';
import { splitHeaderValues, valueEnd } from './header-scanner.js';
import { bitPosition, canonicalHeaderName, HEADER_BIT, headerKey, LIST_HEADERS, TRACKED_HEADERS } from './header-names.js';
import { extractTag, parseContact, parseContactAt, parseNameAddr, parseNameAddrAt, tagOf, type ContactValue, type NameAddr } from './name-addr.js';
import {
  parseCallId, parseCallIdAt, parseContentLength, parseCSeq, parseCSeqAt, parseDate, parseDeltaSeconds, parseMaxForwards, parseOptionTags, parseRetryAfter,
  type CSeq,
} from './scalar-headers.js';
import type { Uri } from './uri.js';
import { parseVia, parseViaAt, type Via } from './via.js';
import { parseReason, parseWarning, type Reason, type Warning } from './warning-reason.js';

/** One header field as received (or added), in message order. */
export interface HeaderField {
  /** The name as written, e.g. `v` or `MaX-fOrWaRdS`. */
  readonly name: string;
  /** Lower-case long form used for look-ups, e.g. `via`, `max-forwards`. */
  readonly key: string;
  /** The value with line folding replaced by one SP and outer white space trimmed. */
  readonly value: string;
  /**
   * The field exactly as received, without its final CRLF, when that is not `${name}: ${value}`
   * (folding, other spacing); absent otherwise and for fields built by code.
   */
  readonly raw?: string;
}

/**
 * The key of a header about to be written, once its name and value are known to be safe to
 * serialize: a name that is a token (RFC 3261 section 7.3.1) and a value without CR, LF or NUL.
 * A CR LF in a value would end the field and start another (`Subject: x\r\nRoute: <sip:attacker>`):
 * header injection; a NUL ends the message for many C stacks. Other control characters are left
 * to the parser's rules, so that any value the parser accepted can be written again (a proxy
 * copies fields). Throws SipParseError (SIP_ERR_BAD_HEADER_NAME or SIP_ERR_BAD_HEADER_VALUE).
 */
function writableHeaderKey(name: string, value: string): string {
  if (!isToken(name)) throw new SipParseError('SIP_ERR_BAD_HEADER_NAME', `'${name}' is not a header name (a token)`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00) {
      throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `control character 0x${c.toString(16).padStart(2, '0')} in the value at ${i}`, headerKey(name));
    }
  }
  return headerKey(name);
}

/** How header text was decoded, so that serialization gives back the received bytes. */
export type HeaderEncoding = 'utf8' | 'latin1';

/**
 * Where the parser's splitter found the headers of HEADER_BIT: `first[bitPosition(bit)]` is
 * the index of the first field with that bit (-1 when none), `repeated` the bits seen twice,
 * `present` the bits seen at all.
 */
export interface TrackedFields {
  readonly first: number[];
  repeated: number;
  present: number;
}

/** A TrackedFields with nothing found yet, for the splitter to fill. */
export function newTrackedFields(): TrackedFields {
  return { first: TRACKED_HEADERS.map(() => -1), repeated: 0, present: 0 };
}

/** Makes `tracked` say nothing was found, as newTrackedFields, for reuse by the next parse. */
export function resetTrackedFields(tracked: TrackedFields): void {
  for (let k = 0; k < tracked.first.length; k++) tracked.first[k] = -1;
  tracked.repeated = 0;
  tracked.present = 0;
}

const FROM_POSITION = bitPosition(HEADER_BIT.from);
const TO_POSITION = bitPosition(HEADER_BIT.to);

// Set in SipMessageBase's static block: the parser's hook for setting a message's bytes.
let attachSource: (message: SipMessageBase, codes: Uint8Array | undefined, valueAt: readonly number[] | undefined, tracked: TrackedFields | undefined) => void;
let attachValueLimit: (message: SipMessageBase, maxHeaderValues: number) => void;

/**
 * For the parser only: the maxHeaderValues of the parse that made `message` (ParseOptions.limits),
 * which its typed readers keep applying after the parse, when a proxy reads a Route or Via list.
 */
export function setHeaderValueLimit(message: SipMessage, maxHeaderValues: number): void {
  attachValueLimit(message, maxHeaderValues);
}

/**
 * For the parser only: while it checks a message it has just read, the typed readers may scan
 * `codes`, in which the value of headers[i] starts at valueAt[i], and find the tracked headers
 * where `tracked` says. Call again with undefined before handing the message out: the bytes
 * belong to the caller, who may reuse them.
 */
export function setParseSource(
  message: SipMessage,
  codes: Uint8Array | undefined,
  valueAt: readonly number[] | undefined,
  tracked: TrackedFields | undefined,
): void {
  attachSource(message, codes, valueAt, tracked);
}

/**
 * What a SIP message is made of, shared by requests and responses. Typed accessors parse a header
 * the first time they are called and cache the result; they throw SipParseError for a malformed
 * or duplicated header, so a message that passed full validation never throws from them.
 */
abstract class SipMessageBase {
  // Read-only from outside (the `headers` getter): every change goes through the methods below,
  // which validate what they write and drop what the typed readers cached.
  readonly #headers: HeaderField[];
  body: Uint8Array;
  headerEncoding: HeaderEncoding;
  // Parsed header values by key; created on first use so that a lazily parsed message allocates less.
  #typed: Map<string, unknown> | undefined;
  // While the parser checks the message: its bytes, and where each field's value starts in them
  // (char-codes.ts), so that the typed readers scan bytes instead of strings. Unset otherwise.
  #codes: Uint8Array | undefined;
  #valueAt: readonly number[] | undefined;
  #tracked: TrackedFields | undefined;
  // What the transaction layer reads on every message, kept beside the map: no look-up, no map
  // to create for a lazily parsed message. Undefined until read.
  #cseq: CSeq | undefined;
  #callId: string | undefined;
  #topVia: Via | undefined;
  // The parse's maxHeaderValues (ParseOptions.limits), kept for the typed readers that run later.
  #maxHeaderValues: number = SIP_LIMITS.maxHeaderValues;

  static {
    attachSource = (message, codes, valueAt, tracked) => {
      message.#codes = codes;
      message.#valueAt = valueAt;
      message.#tracked = tracked;
    };
    attachValueLimit = (message, maxHeaderValues) => {
      message.#maxHeaderValues = maxHeaderValues;
    };
  }

  constructor(headers: HeaderField[], body: Uint8Array, headerEncoding: HeaderEncoding) {
    this.#headers = headers;
    this.body = body;
    this.headerEncoding = headerEncoding;
  }

  /** The header fields in order, as received or written through the methods below. */
  get headers(): readonly HeaderField[] {
    return this.#headers;
  }

  /** The first value of a header (by any spelling, compact or long), or undefined. */
  header(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.#headers) if (h.key === key) return h.value;
    return undefined;
  }

  /** Every field of a header, in order. */
  fields(name: string): HeaderField[] {
    const key = headerKey(name);
    return this.#headers.filter((h) => h.key === key);
  }

  /** Every value of a header: list headers split on commas, others one value per field. */
  headerValues(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.#headers) {
      if (h.key !== key) continue;
      if (LIST_HEADERS.has(key)) out.push(...splitHeaderValues(h.value, this.#maxHeaderValues, key));
      else out.push(h.value);
    }
    return out;
  }

  /** Adds a field at the end, or at the top of its kind with `prepend` (as a proxy adds Via). */
  addHeader(name: string, value: string, options: { prepend?: boolean } = {}): void {
    const key = writableHeaderKey(name, value);
    this.#forget(key);
    const field: HeaderField = { name: canonicalHeaderName(key), key, value };
    if (options.prepend === true) {
      const first = this.#headers.findIndex((h) => h.key === key);
      this.#headers.splice(first < 0 ? 0 : first, 0, field);
    } else {
      this.#headers.push(field);
    }
  }

  /** Replaces every field of a header with one field (or removes them when value is undefined). */
  setHeader(name: string, value: string | undefined): void {
    const key = value === undefined ? headerKey(name) : writableHeaderKey(name, value);
    const first = this.#headers.findIndex((h) => h.key === key);
    this.removeHeader(key);
    if (value === undefined) return;
    const field: HeaderField = { name: canonicalHeaderName(key), key, value };
    this.#headers.splice(first < 0 ? this.#headers.length : first, 0, field);
  }

  /** Removes every field of a header; returns how many were removed. */
  removeHeader(name: string): number {
    const key = headerKey(name);
    this.#forget(key);
    let removed = 0;
    for (let i = this.#headers.length - 1; i >= 0; i--) {
      if (this.#headers[i]?.key === key) {
        this.#headers.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Removes the first value of a list header (the top Via, the first Route); of any other header
   * the whole first field, as headerValues counts its values: a comma inside an Authorization or a
   * Subject does not separate values.
   */
  removeFirstValue(name: string): string | undefined {
    const key = headerKey(name);
    const index = this.#headers.findIndex((h) => h.key === key);
    const field = this.#headers[index];
    if (field === undefined) return undefined;
    this.#forget(key);
    const values = LIST_HEADERS.has(key) ? splitHeaderValues(field.value, this.#maxHeaderValues, key) : [field.value];
    const first = values.shift();
    if (values.length === 0) this.#headers.splice(index, 1);
    else this.#headers[index] = { name: field.name, key, value: values.join(', ') };
    return first;
  }

  /** Drops what was read of `key`, and the parse bytes: the fields no longer match them. */
  #forget(key: string): void {
    this.#codes = undefined;
    this.#tracked = undefined;
    this.#typed?.delete(key);
    if (key === 'cseq') this.#cseq = undefined;
    else if (key === 'call-id') this.#callId = undefined;
    else if (key === 'via') this.#topVia = undefined;
  }

  /** Where the value of headers[index] starts in the parse bytes, or -1 outside a parse. */
  #valueOffset(index: number): number {
    return this.#codes === undefined ? -1 : (this.#valueAt?.[index] ?? -1);
  }

  /**
   * The index of the one field of `key` (a key constant), -1 when absent; throws when repeated.
   * `bit`: the key's HEADER_BIT, for the parser's record of where it found the field.
   */
  #singleIndex(key: string, bit = 0): number {
    const tracked = this.#tracked;
    if (bit !== 0 && tracked !== undefined) {
      if ((tracked.repeated & bit) !== 0) throw new SipParseError('SIP_ERR_DUPLICATE_HEADER', 'appears more than once', key);
      return tracked.first[bitPosition(bit)] ?? -1;
    }
    const headers = this.#headers;
    let index = -1;
    for (let i = 0; i < headers.length; i++) {
      if ((headers[i] as HeaderField).key !== key) continue;
      if (index >= 0) throw new SipParseError('SIP_ERR_DUPLICATE_HEADER', 'appears more than once', key);
      index = i;
    }
    return index;
  }

  /** #singleIndex for a header that must be there: throws when it is absent. */
  #requiredIndex(key: string, bit: number): number {
    const index = this.#singleIndex(key, bit);
    if (index < 0) throw new SipParseError('SIP_ERR_MISSING_HEADER', 'required header is missing', key);
    return index;
  }

  /** Sets the body and the Content-Length (and Content-Type when given) to match it. */
  setBody(body: Uint8Array, contentType?: string): void {
    this.body = body;
    this.setHeader('content-length', String(body.length));
    if (contentType !== undefined) this.setHeader('content-type', contentType);
  }

  /** `key` is already a key (lower-case long form), as every caller passes a constant. */
  protected typedList<T>(key: string, parse: (value: string, key: string) => T, parseAt?: ParseAt<T>): T[] {
    const cached = this.#typed?.get(key) as T[] | undefined;
    if (cached !== undefined) return cached;
    const parsed: T[] = [];
    const headers = this.#headers;
    const codes = parseAt === undefined ? undefined : this.#codes;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i] as HeaderField;
      if (h.key !== key) continue;
      const at = this.#valueOffset(i);
      // A field without a comma holds one value: no need to scan it for quotes and brackets.
      if (h.value.indexOf(',') < 0) {
        // A field the parser read has no white space around its value: its bytes are the value's.
        if (at >= 0 && codes !== undefined && parseAt !== undefined && h.value !== '') parsed[parsed.length] = parseAt(h.value, key, codes, at);
        else parsed[parsed.length] = parseListValue(trimLws(h.value), key, parse);
      } else {
        for (const value of splitHeaderValues(h.value, this.#maxHeaderValues, key)) parsed.push(parseListValue(value, key, parse));
      }
    }
    (this.#typed ??= new Map()).set(key, parsed);
    return parsed;
  }

  /** `bit`: the key's HEADER_BIT when it is tracked, as #singleIndex. */
  protected typedSingle<T>(key: string, parse: (value: string, key: string) => T, parseAt?: ParseAt<T>, bit = 0): T | undefined {
    if (this.#typed?.has(key) === true) return this.#typed.get(key) as T | undefined;
    const index = this.#singleIndex(key, bit);
    let parsed: T | undefined;
    if (index >= 0) {
      const value = (this.#headers[index] as HeaderField).value;
      const codes = this.#codes;
      const at = this.#valueOffset(index);
      parsed = parseAt !== undefined && codes !== undefined && at >= 0 ? parseAt(value, key, codes, at) : parse(value, key);
    }
    (this.#typed ??= new Map()).set(key, parsed);
    return parsed;
  }

  protected required<T>(key: string, parse: (value: string, key: string) => T, parseAt?: ParseAt<T>): T {
    const value = this.typedSingle(key, parse, parseAt);
    if (value === undefined) throw new SipParseError('SIP_ERR_MISSING_HEADER', 'required header is missing', key);
    return value;
  }

  /** Every Via value, top first. */
  via(): Via[] {
    return this.typedList('via', parseVia, viaAt);
  }

  /** The top Via, parsed without touching the others (the transaction key needs only this one). */
  topVia(): Via | undefined {
    if (this.#topVia !== undefined) return this.#topVia;
    const cached = this.#typed?.get('via') as Via[] | undefined;
    if (cached !== undefined) return cached[0];
    const headers = this.#headers;
    const first = this.#tracked?.first[bitPosition(HEADER_BIT.via)];
    if (first !== undefined && first < 0) return undefined;
    for (let i = first ?? 0; i < headers.length; i++) {
      const h = headers[i] as HeaderField;
      if (h.key !== 'via') continue;
      // The first value as via() splits it: a comma inside a quoted parameter value does not end it.
      const comma = h.value.indexOf(',') < 0 ? -1 : valueEnd(h.value);
      const at = this.#valueOffset(i);
      const text = comma < 0 ? h.value : trimLws(h.value.slice(0, comma));
      // The bytes of a field the parser read start with its value, the first Via among them.
      this.#topVia = at >= 0 && this.#codes !== undefined ? parseViaAt(text, this.#codes, at) : parseVia(text);
      return this.#topVia;
    }
    return undefined;
  }

  from(): NameAddr {
    return this.required('from', parseNameAddr, parseNameAddrAt);
  }

  to(): NameAddr {
    return this.required('to', parseNameAddr, parseNameAddrAt);
  }

  /** The From tag; read straight from the field text unless From was already parsed. */
  fromTag(): string | undefined {
    return this.tagParam('from', FROM_POSITION);
  }

  toTag(): string | undefined {
    return this.tagParam('to', TO_POSITION);
  }

  /** `position`: the key's bitPosition, a constant at each call rather than a keyed look-up. */
  private tagParam(key: 'from' | 'to', position: number): string | undefined {
    const parsed = this.#typed?.get(key) as NameAddr | undefined;
    if (parsed !== undefined) return tagOf(parsed);
    const headers = this.#headers;
    const first = this.#tracked?.first[position];
    for (let i = first === undefined || first < 0 ? 0 : first; i < headers.length; i++) {
      const h = headers[i] as HeaderField;
      if (h.key !== key) continue;
      const at = this.#valueOffset(i);
      return at < 0 ? extractTag(h.value, key) : extractTag(h.value, key, this.#codes, at);
    }
    throw new SipParseError('SIP_ERR_MISSING_HEADER', 'required header is missing', key);
  }

  callId(): string {
    if (this.#callId !== undefined) return this.#callId;
    const index = this.#requiredIndex('call-id', HEADER_BIT['call-id']);
    const value = (this.#headers[index] as HeaderField).value;
    const at = this.#valueOffset(index);
    this.#callId = at >= 0 && this.#codes !== undefined ? parseCallIdAt(value, this.#codes, at) : parseCallId(value);
    return this.#callId;
  }

  cseq(): CSeq {
    if (this.#cseq !== undefined) return this.#cseq;
    const index = this.#requiredIndex('cseq', HEADER_BIT.cseq);
    const value = (this.#headers[index] as HeaderField).value;
    const at = this.#valueOffset(index);
    this.#cseq = at >= 0 && this.#codes !== undefined ? parseCSeqAt(value, this.#codes, at) : parseCSeq(value);
    return this.#cseq;
  }

  maxForwards(): number | undefined {
    return this.typedSingle('max-forwards', parseMaxForwards, undefined, HEADER_BIT['max-forwards']);
  }

  contentLength(): number | undefined {
    return this.typedSingle('content-length', parseContentLength, undefined, HEADER_BIT['content-length']);
  }

  contentType(): ContentType | undefined {
    return this.typedSingle('content-type', parseContentType);
  }

  expires(): number | undefined {
    return this.typedSingle('expires', parseDeltaSeconds);
  }

  date(): Date | undefined {
    return this.typedSingle('date', parseDate);
  }

  /** Retry-After seconds (RFC 3261 section 20.33); the comment and parameters are not kept. */
  retryAfter(): number | undefined {
    return this.typedSingle('retry-after', parseRetryAfter);
  }

  contacts(): ContactValue[] {
    const contacts = this.typedList('contact', parseContact, parseContactAt);
    // Contact = STAR / contact-param list (RFC 3261 section 25.1): a star stands alone.
    if (contacts.length > 1 && contacts.some((c) => 'star' in c)) {
      throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', '"*" must be the only Contact value', 'contact');
    }
    return contacts;
  }

  routes(): NameAddr[] {
    return this.typedList('route', parseNameAddr, parseNameAddrAt);
  }

  recordRoutes(): NameAddr[] {
    return this.typedList('record-route', parseNameAddr, parseNameAddrAt);
  }

  require(): string[] {
    return this.optionTags('require');
  }

  proxyRequire(): string[] {
    return this.optionTags('proxy-require');
  }

  supported(): string[] {
    return this.optionTags('supported');
  }

  unsupported(): string[] {
    return this.optionTags('unsupported');
  }

  warnings(): Warning[] {
    return this.typedList('warning', parseWarning);
  }

  reasons(): Reason[] {
    return this.typedList('reason', parseReason);
  }

  authorizations(): AuthValue[] {
    return this.authValues('authorization');
  }

  proxyAuthorizations(): AuthValue[] {
    return this.authValues('proxy-authorization');
  }

  wwwAuthenticates(): AuthValue[] {
    return this.authValues('www-authenticate');
  }

  proxyAuthenticates(): AuthValue[] {
    return this.authValues('proxy-authenticate');
  }

  private optionTags(key: string): string[] {
    const cached = this.#typed?.get(key) as string[] | undefined;
    if (cached !== undefined) return cached;
    const tags = this.plainOptionTags(key) ?? parseOptionTags(this.headerValues(key), key);
    (this.#typed ??= new Map()).set(key, tags);
    return tags;
  }

  /**
   * Option tags when every field of `key` is `tag *( SWS "," SWS tag )` in ASCII: what
   * parseOptionTags(headerValues(key)) gives for them, read without splitting and trimming;
   * undefined for anything else (an empty field, other characters), left to that path.
   */
  private plainOptionTags(key: string): string[] | undefined {
    const tags: string[] = [];
    for (const h of this.#headers) {
      if (h.key !== key) continue;
      const text = h.value;
      const n = text.length;
      let i = 0;
      for (;;) {
        const start = i;
        let c = text.charCodeAt(i);
        while (c < 128 && TOKEN[c] === 1) c = text.charCodeAt(++i);
        if (i === start) return undefined;
        tags[tags.length] = text.slice(start, i);
        while (c === 32 || c === 9) c = text.charCodeAt(++i);
        if (i >= n) break;
        if (c !== 44 /* , */) return undefined;
        c = text.charCodeAt(++i);
        while (c === 32 || c === 9) c = text.charCodeAt(++i);
      }
      if (tags.length > this.#maxHeaderValues) return undefined;
    }
    return tags;
  }

  private authValues(key: string): AuthValue[] {
    const cached = this.#typed?.get(key) as AuthValue[] | undefined;
    if (cached !== undefined) return cached;
    const values = this.fields(key).map((h) => parseAuthValue(h.value, key));
    (this.#typed ??= new Map()).set(key, values);
    return values;
  }
}

/** A typed reader over a value whose characters are also codes[at, at + value.length) (char-codes.ts). */
type ParseAt<T> = (value: string, key: string, codes: Uint8Array, at: number) => T;

const viaAt: ParseAt<Via> = (value, _key, codes, at) => parseViaAt(value, codes, at);

function parseListValue<T>(value: string, key: string, parse: (value: string, key: string) => T): T {
  if (value === '') throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', 'empty value in a list', key);
  return parse(value, key);
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  constructor(
    public method: string,
    public uri: Uri,
    headers: HeaderField[] = [],
    body: Uint8Array = new Uint8Array(0),
    public version = 'SIP/2.0',
    headerEncoding: HeaderEncoding = 'utf8',
  ) {
    super(headers, body, headerEncoding);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  constructor(
    public status: number,
    public reason: string,
    headers: HeaderField[] = [],
    body: Uint8Array = new Uint8Array(0),
    public version = 'SIP/2.0',
    headerEncoding: HeaderEncoding = 'utf8',
  ) {
    super(headers, body, headerEncoding);
  }
}

export type SipMessage = SipRequest | SipResponse;

/** The Call-ID for a log line: undefined when the header is missing or malformed (a log line must not throw). */
export function safeCallId(message: SipMessage): string | undefined {
  try {
    return message.callId();
  } catch {
    return undefined;
  }
}

/**
 * Parses every typed header of a message, so that later accessors cannot throw. Returns the faults
 * found; an empty list means every header sipsec knows is well-formed.
 */
export function parseAllTypedHeaders(message: SipMessage): SipParseError[] {
  const faults: SipParseError[] = [];
  // One reader per key present, in message order: a message pays only for the headers it has.
  let done = 0;
  for (const h of message.headers) {
    const index = TYPED_INDEX.get(h.key);
    if (index === undefined || (done & (1 << index)) !== 0) continue;
    done |= 1 << index;
    try {
      (TYPED_READER_LIST[index] as (m: SipMessage) => unknown)(message);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      faults.push(err);
    }
  }
  return faults;
}

const TYPED_READERS: Readonly<Record<string, ((m: SipMessage) => unknown) | undefined>> = {
  via: (m) => m.via(),
  from: (m) => m.from(),
  to: (m) => m.to(),
  'call-id': (m) => m.callId(),
  cseq: (m) => m.cseq(),
  'max-forwards': (m) => m.maxForwards(),
  'content-length': (m) => m.contentLength(),
  'content-type': (m) => m.contentType(),
  expires: (m) => m.expires(),
  date: (m) => m.date(),
  contact: (m) => m.contacts(),
  route: (m) => m.routes(),
  'record-route': (m) => m.recordRoutes(),
  require: (m) => m.require(),
  'proxy-require': (m) => m.proxyRequire(),
  supported: (m) => m.supported(),
  unsupported: (m) => m.unsupported(),
  warning: (m) => m.warnings(),
  reason: (m) => m.reasons(),
  authorization: (m) => m.authorizations(),
  'proxy-authorization': (m) => m.proxyAuthorizations(),
  'www-authenticate': (m) => m.wwwAuthenticates(),
  'proxy-authenticate': (m) => m.proxyAuthenticates(),
  'retry-after': (m) => m.retryAfter(),
};

// A bit per typed key (fewer than 32) marks the keys already read in parseAllTypedHeaders.
const TYPED_INDEX = new Map(Object.keys(TYPED_READERS).map((key, i) => [key, i]));
const TYPED_READER_LIST = Object.values(TYPED_READERS);
// A 33rd reader would silently share a bit with the first: fail at load instead.
if (TYPED_READER_LIST.length > 31) throw new Error(`parseAllTypedHeaders marks readers in a 31-bit mask; there are ${TYPED_READER_LIST.length}`);

import { Buffer } from 'node:buffer';
import { SIP_LIMITS, type SipLimits } from '../limits.js';
import { responseForFault, type FaultResponse, type SipFaultCode } from './errors.js';
import { bitPosition, HEADER_BIT } from './header-names.js';
import { newTrackedFields, type HeaderField } from './message.js';
import { splitPlainFields } from './parse-message.js';

/** What a stream yields: whole messages, and RFC 5626 section 4.4.1 keep-alives. */
export type FramedItem =
  | { readonly type: 'message'; readonly bytes: Buffer }
  /** A double CRLF from the peer: answer with one CRLF (a pong). */
  | { readonly type: 'ping' }
  /** A single CRLF: the answer to our ping, or a stray line break before a message. */
  | { readonly type: 'pong' }
  /**
   * The stream can no longer be framed; always the last item. Messages framed before it in the
   * same read come first, so nothing the peer sent correctly is lost.
   */
  | { readonly type: 'framing-error'; readonly error: FramingError };

/**
 * The stream can no longer be framed (RFC 3261 section 18.3: without a usable Content-Length the
 * next message cannot be found). The connection must be closed; `head` holds the header section
 * when it was read, so that a 400 or 513 can be sent first. The message and detail are fixed
 * words and configured limits only, never the peer's bytes: they reach logs and reason phrases.
 */
export class FramingError extends Error {
  constructor(
    readonly code: Extract<SipFaultCode, 'SIP_ERR_MESSAGE_TOO_LARGE' | 'SIP_ERR_BAD_CONTENT_LENGTH' | 'SIP_ERR_MISSING_HEADER'>,
    readonly detail: string,
    readonly head: Buffer | undefined,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'FramingError';
  }

  /** What to answer a request whose framing failed, from the fault vocabulary (errors.ts). */
  get response(): FaultResponse {
    return responseForFault({ code: this.code, header: this.code === 'SIP_ERR_MESSAGE_TOO_LARGE' ? undefined : 'content-length', detail: this.detail }, undefined);
  }
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/** The first allocation for bytes held between reads; it doubles as needed. */
const INITIAL_STORE_BYTES = 4096;
// A start line the line scan below would read as a field (only the text's first line).
const CONTENT_LENGTH_START = /^(?:content-length|l)[ \t]*:/i;

/**
 * The Content-Length values of a header section (`head` ends with its empty line) written as nearly
 * every one is: read by the parser's plain splitter, which also says where Content-Length is, so
 * that no regular expression runs over the whole section. Undefined where the splitter declines
 * (folding, odd spacing, a limit) or the start line could itself be read as a Content-Length
 * field, as the line scan would read it: contentLengthsByLines decides those.
 */
function plainContentLengths(head: Buffer, limits: SipLimits): string[] | undefined {
  const text = head.toString('latin1');
  // The line scan reads every line, the start line included.
  if (CONTENT_LENGTH_START.test(text)) return undefined;
  const startEnd = text.indexOf('\r\n');
  if (startEnd < 0) return undefined;
  const fields: HeaderField[] = [];
  const tracked = newTrackedFields();
  if (splitPlainFields(text, startEnd + 2, fields, limits, head, 0, undefined, true, tracked) < 0) return undefined;
  const bit = HEADER_BIT['content-length'];
  if ((tracked.present & bit) === 0) return [];
  if ((tracked.repeated & bit) === 0) return [fields[tracked.first[bitPosition(bit)] ?? -1]?.value ?? ''];
  return fields.filter((f) => f.key === 'content-length').map((f) => f.value);
}

/**
 * The Content-Length values of any header section, folded lines joined first: every line (ended by
 * CR or LF, bare ones included) that starts `Content-Length` or `l` (any case), optional SP or HTAB,
 * and a colon gives its value without the SP and HTAB around it. A scan, not a regular expression:
 * an expression with a lazy value before optional trailing white space backtracked quadratically
 * on a long run of white space (issue 12), and this sees any peer's bytes.
 */
export function contentLengthsByLines(head: Buffer): string[] {
  const text = head.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  const values: string[] = [];
  const n = text.length;
  let lineStart = 0;
  while (lineStart < n) {
    let lineEnd = lineStart;
    for (let c = text.charCodeAt(lineEnd); lineEnd < n && c !== 13 && c !== 10; c = text.charCodeAt(++lineEnd));
    const value = contentLengthValue(text, lineStart, lineEnd);
    if (value !== undefined) values.push(value);
    lineStart = lineEnd + 1;
  }
  return values;
}

/** The value of text[start, end) when that line is a Content-Length field, else undefined. */
function contentLengthValue(text: string, start: number, end: number): string | undefined {
  let i = start;
  if (end - start >= 14 && text.slice(start, start + 14).toLowerCase() === 'content-length') i += 14;
  else if (text.charCodeAt(start) === 108 || text.charCodeAt(start) === 76) i += 1;
  else return undefined;
  while (i < end && isSpaceOrTab(text.charCodeAt(i))) i++;
  if (i >= end || text.charCodeAt(i) !== 58 /* : */) return undefined;
  i++;
  while (i < end && isSpaceOrTab(text.charCodeAt(i))) i++;
  let valueEnd = end;
  while (valueEnd > i && isSpaceOrTab(text.charCodeAt(valueEnd - 1))) valueEnd--;
  return text.slice(i, valueEnd);
}

function isSpaceOrTab(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Cuts a byte stream (TCP, TLS) into messages by Content-Length. Bytes are checked against the
 * limits as they arrive, so a peer that never ends its headers costs at most maxHeaderSectionBytes.
 * The cost of a message is linear in its bytes however they are cut into reads: bytes held between
 * reads are appended to a store that grows by doubling (not copied whole on every read), and the
 * search for the end of the header section resumes where the last one stopped.
 */
export class StreamFramer {
  readonly #limits: SipLimits;
  /** The bytes held: a view of the current read, or of #store once they outlive it. */
  #buffer: Buffer = EMPTY;
  /** Owned memory for bytes held between reads; #buffer is a view of it when not borrowed. */
  #store: Buffer = EMPTY;
  /** Where in #buffer the search for CRLFCRLF resumes: everything before was searched. */
  #searchFrom = 0;
  /** Bytes searched for the end of a header section and copied into the store, for the tests of linear cost. */
  #workBytes = 0;
  /** Body bytes still expected for the message whose header section ends at #headEnd. */
  #headEnd = -1;
  #messageLength = 0;
  #afterLoneCrlf = false;
  #failed: FramingError | undefined;

  constructor(limits: Partial<SipLimits> = {}) {
    this.#limits = { ...SIP_LIMITS, ...limits };
  }

  /** Bytes held for an incomplete message (for the "time to complete a message" limit). */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  /**
   * Bytes searched and copied so far: a measure of the work done, which stays linear in the bytes
   * pushed however they are split into reads (tests count it; nothing else should rely on it).
   */
  get workBytes(): number {
    return this.#workBytes;
  }

  /** The framing error that stopped this framer, if any; later pushes are ignored. */
  get failed(): FramingError | undefined {
    return this.#failed;
  }

  /**
   * Feeds received bytes; returns the items now complete. When framing is lost, the last item is
   * a `framing-error` and the framer ignores everything after it: the connection must be closed.
   */
  push(chunk: Uint8Array): FramedItem[] {
    if (this.#failed !== undefined) return [];
    // With nothing held, the chunk is read in place: what comes out is copied (messages, heads),
    // and what is left of the chunk is copied before returning, so the caller may reuse it.
    const borrowed = this.#buffer.length === 0;
    if (borrowed) this.#buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else this.#append(chunk);
    const items: FramedItem[] = [];
    for (;;) {
      let item: FramedItem | undefined;
      try {
        item = this.#next();
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.#failed = err;
        this.#buffer = EMPTY;
        this.#store = EMPTY;
        items.push({ type: 'framing-error', error: err });
        return items;
      }
      if (item === undefined) break;
      items.push(item);
    }
    if (borrowed && this.#buffer.length > 0) {
      const rest = this.#buffer;
      this.#buffer = EMPTY;
      this.#append(rest);
    }
    // An idle connection holds no memory for the largest message it once carried.
    if (this.#buffer.length === 0) this.#store = EMPTY;
    return items;
  }

  /**
   * Appends bytes after those held (a view of the store, or nothing), in place when the store has
   * room after them; else the held bytes move to the front of the store, or of one twice as large
   * as needed. Each byte is thus copied a bounded number of times on average.
   */
  #append(chunk: Uint8Array): void {
    const held = this.#buffer.length;
    const need = held + chunk.byteLength;
    const store = this.#store;
    const offset = held === 0 ? 0 : this.#buffer.byteOffset - store.byteOffset;
    this.#workBytes += chunk.byteLength;
    if (offset + need <= store.length) {
      store.set(chunk, offset + held);
      this.#buffer = store.subarray(offset, offset + need);
      return;
    }
    this.#workBytes += held;
    let target = store;
    if (need <= store.length) {
      store.copyWithin(0, offset, offset + held);
    } else {
      target = Buffer.allocUnsafe(Math.max(INITIAL_STORE_BYTES, need * 2));
      this.#buffer.copy(target, 0);
    }
    target.set(chunk, held);
    this.#store = target;
    this.#buffer = target.subarray(0, need);
  }

  #next(): FramedItem | undefined {
    const buf = this.#buffer;
    if (this.#headEnd < 0) {
      if (buf.length === 0) return undefined;
      if (buf[0] === 13) {
        if (buf.length < 2) return undefined;
        if (buf[1] !== 10) return this.#startMessage();
        if (buf.length >= 4 && buf[2] === 13 && buf[3] === 10) {
          this.#consume(4);
          this.#afterLoneCrlf = false;
          return { type: 'ping' };
        }
        if (buf.length === 3 && buf[2] === 13) return undefined;
        this.#consume(2);
        // A ping split across reads arrives as two lone CRLFs: report the second as the ping.
        if (this.#afterLoneCrlf) {
          this.#afterLoneCrlf = false;
          return { type: 'ping' };
        }
        this.#afterLoneCrlf = this.#buffer.length === 0;
        return { type: 'pong' };
      }
      this.#afterLoneCrlf = false;
      return this.#startMessage();
    }
    if (buf.length < this.#messageLength) return undefined;
    const bytes = buf.subarray(0, this.#messageLength);
    this.#consume(this.#messageLength);
    this.#headEnd = -1;
    return { type: 'message', bytes: Buffer.from(bytes) };
  }

  #startMessage(): FramedItem | undefined {
    const buf = this.#buffer;
    const from = this.#searchFrom;
    const end = buf.indexOf(CRLF_CRLF, from);
    this.#workBytes += (end < 0 ? buf.length : end + 4) - from;
    if (end < 0) {
      if (buf.length > this.#limits.maxHeaderSectionBytes) {
        throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `no end of headers within ${this.#limits.maxHeaderSectionBytes} bytes`, undefined);
      }
      // The last three bytes may begin a CRLFCRLF that the next read completes.
      this.#searchFrom = Math.max(0, buf.length - 3);
      return undefined;
    }
    const head = buf.subarray(0, end + 4);
    if (end > this.#limits.maxHeaderSectionBytes) {
      throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `header section over ${this.#limits.maxHeaderSectionBytes} bytes`, Buffer.from(head));
    }
    const values = plainContentLengths(head, this.#limits) ?? contentLengthsByLines(head);
    if (values.length === 0) {
      throw new FramingError('SIP_ERR_MISSING_HEADER', 'Content-Length is required on stream transports', Buffer.from(head));
    }
    const distinct = new Set(values.map((v) => (/^\d{1,10}$/.test(v) ? Number(v) : NaN)));
    const [length] = distinct;
    if (distinct.size !== 1 || length === undefined || Number.isNaN(length)) {
      throw new FramingError('SIP_ERR_BAD_CONTENT_LENGTH', distinct.size > 1 ? 'Content-Length values differ' : 'Content-Length is not a number of at most 10 digits', Buffer.from(head));
    }
    const total = end + 4 + length;
    if (total > this.#limits.maxMessageBytes) {
      throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `message over ${this.#limits.maxMessageBytes} bytes`, Buffer.from(head));
    }
    this.#headEnd = end + 4;
    this.#messageLength = total;
    return this.#next();
  }

  #consume(n: number): void {
    this.#buffer = n >= this.#buffer.length ? EMPTY : this.#buffer.subarray(n);
    this.#searchFrom = 0;
  }
}

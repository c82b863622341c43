import { Buffer } from 'node:buffer';
import { SIP_LIMITS, type SipLimits } from '../limits.js';
import type { SipFaultCode } from './errors.js';
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
 * when it was read, so that a 400 or 513 can be sent first.
 */
export class FramingError extends Error {
  constructor(
    readonly code: Extract<SipFaultCode, 'SIP_ERR_MESSAGE_TOO_LARGE' | 'SIP_ERR_BAD_CONTENT_LENGTH' | 'SIP_ERR_MISSING_HEADER'>,
    detail: string,
    readonly head: Buffer | undefined,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'FramingError';
  }
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*$/gim;
// A start line CONTENT_LENGTH would read as a field (only the text's first line: no m flag).
const CONTENT_LENGTH_START = /^(?:content-length|l)[ \t]*:/i;

/**
 * The Content-Length values of a header section (`head` ends with its empty line) written as nearly
 * every one is: read by the parser's plain splitter, which also says where Content-Length is, so
 * that no regular expression runs over the whole section. Undefined where the splitter declines
 * (folding, odd spacing, a limit) or the start line could itself be read as a Content-Length
 * field, as the expression would read it: contentLengthsByExpression decides those.
 */
function plainContentLengths(head: Buffer, limits: SipLimits): string[] | undefined {
  const text = head.toString('latin1');
  // The expression matches at every line start, the start line's included.
  if (CONTENT_LENGTH_START.test(text)) return undefined;
  const startEnd = text.indexOf('\r\n');
  if (startEnd < 0) return undefined;
  const fields: HeaderField[] = [];
  const tracked = newTrackedFields();
  const r = splitPlainFields(text, startEnd + 2, fields, limits, head, 0, undefined, true, tracked);
  if (r < 0) return undefined;
  const bit = HEADER_BIT['content-length'];
  if ((r & bit) === 0) return [];
  if ((tracked.repeated & bit) === 0) return [fields[tracked.first[bitPosition(bit)] ?? -1]?.value ?? ''];
  return fields.filter((f) => f.key === 'content-length').map((f) => f.value);
}

/** The Content-Length values of any header section, folded lines joined first. */
function contentLengthsByExpression(head: Buffer): string[] {
  const text = head.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  return [...text.matchAll(CONTENT_LENGTH)].map((m) => m[1] ?? '');
}

/**
 * Cuts a byte stream (TCP, TLS) into messages by Content-Length. Bytes are checked against the
 * limits as they arrive, so a peer that never ends its headers costs at most maxHeaderSectionBytes.
 */
export class StreamFramer {
  readonly #limits: SipLimits;
  #buffer: Buffer = EMPTY;
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
    this.#buffer = borrowed ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.#buffer, chunk]);
    const items: FramedItem[] = [];
    for (;;) {
      let item: FramedItem | undefined;
      try {
        item = this.#next();
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.#failed = err;
        this.#buffer = EMPTY;
        items.push({ type: 'framing-error', error: err });
        return items;
      }
      if (item === undefined) break;
      items.push(item);
    }
    if (borrowed && this.#buffer.length > 0) this.#buffer = Buffer.from(this.#buffer);
    return items;
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
    const end = buf.indexOf(CRLF_CRLF);
    if (end < 0) {
      if (buf.length > this.#limits.maxHeaderSectionBytes) {
        throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `no end of headers within ${this.#limits.maxHeaderSectionBytes} bytes`, undefined);
      }
      return undefined;
    }
    const head = buf.subarray(0, end + 4);
    if (end > this.#limits.maxHeaderSectionBytes) {
      throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `header section of ${end} bytes`, Buffer.from(head));
    }
    const values = plainContentLengths(head, this.#limits) ?? contentLengthsByExpression(head);
    if (values.length === 0) {
      throw new FramingError('SIP_ERR_MISSING_HEADER', 'Content-Length is required on stream transports', Buffer.from(head));
    }
    const distinct = new Set(values.map((v) => (/^\d{1,10}$/.test(v) ? Number(v) : NaN)));
    const [length] = distinct;
    if (distinct.size !== 1 || length === undefined || Number.isNaN(length)) {
      throw new FramingError('SIP_ERR_BAD_CONTENT_LENGTH', `unusable Content-Length ${values.join(', ')}`, Buffer.from(head));
    }
    const total = end + 4 + length;
    if (total > this.#limits.maxMessageBytes) {
      throw new FramingError('SIP_ERR_MESSAGE_TOO_LARGE', `message of ${total} bytes, limit ${this.#limits.maxMessageBytes}`, Buffer.from(head));
    }
    this.#headEnd = end + 4;
    this.#messageLength = total;
    return this.#next();
  }

  #consume(n: number): void {
    this.#buffer = n >= this.#buffer.length ? EMPTY : this.#buffer.subarray(n);
  }
}

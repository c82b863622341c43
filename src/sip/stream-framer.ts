import { Buffer } from 'node:buffer';
import { SIP_LIMITS, type SipLimits } from '../limits.js';
import type { SipFaultCode } from './errors.js';

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
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
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
      if (item === undefined) return items;
      items.push(item);
    }
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
    const text = head.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
    const values = [...text.matchAll(CONTENT_LENGTH)].map((m) => m[1] ?? '');
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

import type { Socket } from 'node:net';
import type { CloseReasonText } from '../vocabulary.js';
import type { TLSSocket } from 'node:tls';
import type { SipLimits, TransportLimits } from '../limits.js';
import { StreamFramer, type FramingError } from '../sip/stream-framer.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { nextConnectionId, type Connection } from './connection.js';
import { TransportError, type Endpoint, type TransportProtocol } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

export interface StreamConnectionEvents {
  /** A whole message arrived. */
  onMessage(connection: StreamConnection, bytes: Buffer): void;
  /** The stream cannot be framed any more; `head` holds the offending header section when read. */
  onFramingError(connection: StreamConnection, error: FramingError): void;
  onClose(connection: StreamConnection): void;
}

/**
 * One TCP or TLS connection carrying SIP: framing, RFC 5626 keep-alive answers, and the limits
 * that bound what a slow or hostile peer can cost (idle time, time to complete a message, bytes
 * queued for writing).
 */
export class StreamConnection implements Connection {
  readonly id: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** SIP domains this connection's server certificate was verified for (outbound TLS). */
  readonly verifiedFor = new Set<string>();
  #closed = false;
  #closeReason: CloseReasonText | '' = '';
  #draining = false;
  #corked = false;
  #messageTimer: NodeJS.Timeout | undefined;
  readonly #framer: StreamFramer;

  constructor(
    readonly socket: Socket | TLSSocket,
    readonly transport: Extract<TransportProtocol, 'tcp' | 'tls'>,
    readonly direction: 'inbound' | 'outbound',
    /** For TLS: the verdict on the peer's certificate (server's when outbound, client's when inbound). */
    readonly peer: PeerVerdict | undefined,
    private readonly limits: TransportLimits,
    sipLimits: SipLimits,
    private readonly events: StreamConnectionEvents,
    private readonly log: TransportLog,
  ) {
    this.id = nextConnectionId(transport);
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.#framer = new StreamFramer(sipLimits);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('timeout', () => this.close('idle-timeout'));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: Error) => this.close(`socket-error: ${err.message}`));
    socket.on('close', () => this.#onClosed());
    socket.on('end', () => this.close('peer-closed'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection closed (empty while open): a limit, the peer, or the socket error text. */
  get closeReason(): CloseReasonText | '' {
    return this.#closeReason;
  }

  /** Writes one message; rejects with TransportError when the connection is closed or stalled. */
  send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportError('connection-reset', `connection ${this.id} is closed (${this.#closeReason})`));
    if (this.socket.writableLength + bytes.length > this.limits.maxWriteBufferBytes) {
      this.close('write-buffer-full');
      return Promise.reject(new TransportError('connection-reset', `connection ${this.id} stalled: write buffer over ${this.limits.maxWriteBufferBytes} bytes`));
    }
    // Writes made in one turn of the event loop (the responses to one read) leave as one TLS record
    // and one system call instead of one each.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => {
        if (err) reject(new TransportError('connection-reset', err.message, undefined, { cause: err }));
        else resolve();
      });
    });
  }

  /** Closes the connection now; the reason is logged once. */
  close(reason: CloseReasonText): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    clearTimeout(this.#messageTimer);
    this.log({ level: reason === 'local-close' || reason === 'peer-closed' ? 'debug' : 'warn', event: 'connection-closed', connection: this.id, remote: this.remote, reason });
    this.socket.destroy();
  }

  /** Stops reading and closes after a grace period, so a final error response can still be written. */
  drain(reason: CloseReasonText, graceMs: number): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    // The grace period is the deadline now: the message being read will never complete.
    clearTimeout(this.#messageTimer);
    this.#messageTimer = undefined;
    this.socket.pause();
    setTimeout(() => this.close(reason), graceMs).unref();
  }

  #onData(chunk: Buffer): void {
    if (this.#draining) return;
    const items = this.#framer.push(chunk);
    for (const item of items) {
      if (item.type === 'ping') {
        this.socket.write('\r\n');
      } else if (item.type === 'message') {
        this.events.onMessage(this, item.bytes);
      } else if (item.type === 'framing-error') {
        this.log({ level: 'warn', event: 'framing-lost', connection: this.id, remote: this.remote, reason: item.error.message });
        this.events.onFramingError(this, item.error);
        // Leave a moment for the 400 or 513 the layer above sends, then close (RFC 3261 18.3).
        this.drain(`framing-lost: ${item.error.code}`, this.limits.framingLostDrainMs);
      }
      if (this.#closed || this.#draining) return;
    }
    this.#armMessageTimer(items.length > 0);
  }

  /**
   * The deadline of one message runs from its first byte. When this read completed an item, what
   * the framer still holds began after that item's last byte, in this read: a new message, whose
   * deadline starts now. A busy peer pipelining messages is never held to the first one's deadline.
   */
  #armMessageTimer(completedOne: boolean): void {
    if (completedOne || this.#framer.bufferedBytes === 0) {
      clearTimeout(this.#messageTimer);
      this.#messageTimer = undefined;
    }
    if (this.#framer.bufferedBytes > 0 && this.#messageTimer === undefined) {
      this.#messageTimer = setTimeout(() => this.close('message-incomplete-timeout'), this.limits.messageCompleteTimeoutMs);
      this.#messageTimer.unref();
    }
  }

  #onClosed(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#closeReason = 'peer-closed';
      clearTimeout(this.#messageTimer);
    }
    this.events.onClose(this);
  }
}

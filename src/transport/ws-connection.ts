import { isUtf8 } from 'node:buffer';
import type { CloseReasonText, CloseReasonWord } from '../vocabulary.js';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { TransportLimits } from '../limits.js';
import type { PeerVerdict } from '../tls/verdict.js';
import { nextConnectionId, type Connection } from './connection.js';
import { TransportError, type Endpoint } from './transport-context.js';
import type { TransportLog } from './transport-log.js';
import { WsFrameTracker } from './ws-frame-tracker.js';

export interface WsConnectionEvents {
  /** One WebSocket message arrived: one SIP message (RFC 7118 section 5), not yet parsed. */
  onMessage(connection: WsConnection, bytes: Buffer): void;
  onClose(connection: WsConnection): void;
}

/** ws error codes that a hostile or broken peer causes, in the vocabulary of the close reasons. */
const CLOSE_REASON_OF_WS_ERROR: Readonly<Record<string, CloseReasonWord>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 'message-too-large',
  WS_ERR_INVALID_UTF8: 'invalid-utf8',
};

/** How long a connection closed by a protocol error waits for its close frame to go out. */
const CLOSE_FRAME_GRACE_MS = 1_000;

/**
 * One WebSocket connection carrying SIP (RFC 7118), after the opening handshake: one SIP message
 * per WebSocket message, sent as a text frame when it is UTF-8 and as a binary frame otherwise
 * (section 4.2); the idle limit on the underlying socket and the write-buffer limit of streams.
 * The message size limit is ws's maxPayload, enforced as frames arrive (set where the handshake is).
 * ws buffers partial frames and fragments without a deadline, so the bytes under it are followed
 * here (WsFrameTracker) on inbound connections: a message or control frame not complete
 * messageCompleteTimeoutMs after its first byte closes the connection, as on streams. On every
 * connection more than wsMaxControlFramesBetweenMessages pings and pongs without a data message close it.
 */
export class WsConnection implements Connection {
  readonly id: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly verifiedFor = new Set<string>();
  #closed = false;
  #closeReason: CloseReasonText | '' = '';
  #notified = false;
  readonly #frames = new WsFrameTracker();
  #messageTimer: NodeJS.Timeout | undefined;
  #controlFrames = 0;

  constructor(
    readonly ws: WebSocket,
    /** The TCP or TLS socket under the WebSocket (for addresses and the idle limit). */
    readonly socket: Socket,
    readonly transport: 'ws' | 'wss',
    readonly direction: 'inbound' | 'outbound',
    readonly peer: PeerVerdict | undefined,
    private readonly limits: TransportLimits,
    private readonly events: WsConnectionEvents,
    private readonly log: TransportLog,
  ) {
    this.id = nextConnectionId(transport);
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    // ws clears the socket timeout when it takes the socket; the idle limit is set after that.
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('timeout', () => this.close('idle-timeout'));
    // After ws's own listener (added when it took the socket): ws has read the chunk first. Inbound
    // only: the server side builds this connection in the same turn as ws takes the socket, so no
    // byte is missed; on the client side ws may read bytes that followed the 101 before this
    // constructor runs, and a tracker that missed a frame's start would misread every frame after.
    if (direction === 'inbound') socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    ws.on('message', (data: RawData) => this.#onMessage(data));
    ws.on('ping', () => this.#onControlFrame('ping'));
    ws.on('pong', () => this.#onControlFrame('pong'));
    ws.on('error', (err: Error & { code?: string }) => this.#onError(err));
    ws.on('close', (code: number) => this.#onClosed(code));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): CloseReasonText | '' {
    return this.#closeReason;
  }

  send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportError('connection-reset', `connection ${this.id} is closed (${this.#closeReason})`));
    if (this.ws.bufferedAmount + bytes.length > this.limits.maxWriteBufferBytes) {
      this.close('write-buffer-full');
      return Promise.reject(new TransportError('connection-reset', `connection ${this.id} stalled: write buffer over ${this.limits.maxWriteBufferBytes} bytes`));
    }
    return new Promise((resolve, reject) => {
      // RFC 7118 section 4.2: a message with any non-UTF-8 byte MUST go in a binary message.
      this.ws.send(bytes, { binary: !isUtf8(bytes) }, (err) => {
        if (err) reject(new TransportError('connection-reset', err.message, undefined, { cause: err }));
        else resolve();
      });
    });
  }

  close(reason: CloseReasonText): void {
    if (!this.#markClosed(reason)) return;
    this.ws.terminate();
  }

  #markClosed(reason: CloseReasonText): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    clearTimeout(this.#messageTimer);
    this.#closeReason = reason;
    this.log({ level: reason === 'local-close' || reason === 'peer-closed' ? 'debug' : 'warn', event: 'connection-closed', connection: this.id, remote: this.remote, reason });
    return true;
  }

  /**
   * The deadline of one message (or control frame) runs from its first byte: when this chunk ended
   * one, what the peer is still sending began after it, in this chunk, and gets a deadline from now.
   */
  #onBytes(chunk: Buffer): void {
    if (this.#closed) return;
    const ended = this.#frames.push(chunk);
    if (ended > 0 || !this.#frames.partial) {
      clearTimeout(this.#messageTimer);
      this.#messageTimer = undefined;
    }
    if (this.#frames.partial && this.#messageTimer === undefined) {
      this.#messageTimer = setTimeout(() => this.close('message-incomplete-timeout'), this.limits.messageCompleteTimeoutMs);
      this.#messageTimer.unref();
    }
  }

  #onControlFrame(kind: 'ping' | 'pong'): void {
    if (this.#closed) return;
    if (++this.#controlFrames > this.limits.wsMaxControlFramesBetweenMessages) {
      this.close('control-frame-limit');
      return;
    }
    // ws has queued the pong: a peer that pings but does not read must not grow the buffer unbounded.
    if (kind === 'ping' && this.socket.writableLength > this.limits.maxWriteBufferBytes) this.close('write-buffer-full');
  }

  #onMessage(data: RawData): void {
    if (this.#closed) return;
    this.#controlFrames = 0;
    // binaryType 'nodebuffer' (ws's default) delivers one Buffer; the other shapes are normalized anyway.
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (bytes.length === 0) return;
    if (isCrlfOnly(bytes)) {
      // RFC 5626 section 3.5.1 keep-alives are usable over WebSocket (RFC 7118 section 6): a
      // CRLFCRLF ping gets a CRLF pong, a lone CRLF is ignored.
      if (bytes.length >= 4) this.ws.send('\r\n');
      return;
    }
    this.events.onMessage(this, bytes);
  }

  #onError(err: Error & { code?: string }): void {
    // ws has already sent the close frame with the matching status (1009 for a message over maxPayload).
    if (!this.#markClosed(CLOSE_REASON_OF_WS_ERROR[err.code ?? ''] ?? `websocket-error: ${err.message}`)) return;
    setTimeout(() => this.ws.terminate(), CLOSE_FRAME_GRACE_MS).unref();
  }

  #onClosed(code: number): void {
    clearTimeout(this.#messageTimer);
    if (!this.#closed) {
      this.#closed = true;
      this.#closeReason = code === 1000 || code === 1001 || code === 1005 ? 'peer-closed' : `peer-closed: websocket status ${code}`;
    }
    if (this.#notified) return;
    this.#notified = true;
    this.events.onClose(this);
  }
}

function isCrlfOnly(bytes: Buffer): boolean {
  if (bytes.length === 0 || bytes.length > 4) return false;
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}

import tls from 'node:tls';
import type { SipLimits } from '../limits.js';
import type { SipMessage, SipRequest } from '../sip/message.js';
import { inspectMessage, type ParseResult } from '../sip/parse-message.js';
import type { FramingError } from '../sip/stream-framer.js';
import type { Connection } from './connection.js';
import type { TlsSession, TransportContext } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

export interface ReceiveHandlers {
  readonly onMessage: (message: SipMessage, context: TransportContext) => void;
  readonly onInvalid?: ((result: Extract<ParseResult, { ok: false }>, context: TransportContext) => void) | undefined;
  /** A request parsed from a TCP or TLS stream, with its connection, before onMessage (RFC 5923 aliases). */
  readonly onStreamRequest?: ((request: SipRequest, connection: Connection) => void) | undefined;
}

/**
 * From received bytes to what goes up: each message parsed with the element's SIP limits and handed
 * up with its TransportContext, or handed up as invalid with the response a request gets; a stream
 * whose framing is lost hands up what can be read of its header section, with the answer
 * responseForFault (src/sip/errors.ts) gives its framing fault.
 */
export class ReceivePath {
  /** A connection's TLS session and SNI, read from its socket once (native calls) and kept with it. */
  readonly #sessions = new WeakMap<Connection, TlsFacts | null>();

  constructor(
    private readonly handlers: ReceiveHandlers,
    private readonly sipLimits: SipLimits,
    private readonly log: TransportLog,
  ) {}

  /** One UDP datagram or one WebSocket message (RFC 7118 section 5: framed like a datagram). */
  datagram(bytes: Buffer, context: TransportContext): void {
    this.#receive(bytes, context, 'datagram');
  }

  /** One message the stream framer cut out of a TCP or TLS connection. */
  stream(bytes: Buffer, connection: Connection): void {
    this.#receive(bytes, this.contextOf(connection), 'stream', connection);
  }

  framingLost(connection: Connection, error: FramingError): void {
    if (error.head === undefined) return;
    // Read what can be read of the header section so the layer above can answer 400/513 before the close.
    const result = inspectMessage(error.head, { framing: 'datagram', limits: this.sipLimits });
    const faults = [{ code: error.code, detail: error.message }, ...(result.ok ? [] : result.faults)];
    const kind = result.ok ? result.message.kind : result.kind;
    // The framing fault decides the answer (it is why the connection closes): FramingError.response
    // is responseForFault's answer to it, the same table as every other fault.
    const response = kind === 'request' ? error.response : undefined;
    this.handlers.onInvalid?.({ ok: false, faults, message: result.message, kind, response }, this.contextOf(connection));
  }

  contextOf(connection: Connection): TransportContext {
    const facts = this.#tlsFactsOf(connection);
    return {
      transport: connection.transport,
      local: connection.local,
      remote: connection.remote,
      connectionId: connection.id,
      peer: connection.peer,
      receivedAtMs: Date.now(),
      ...(facts?.session === undefined ? {} : { tls: facts.session }),
      ...(facts?.sni === undefined ? {} : { sni: facts.sni }),
    };
  }

  sessionOf(connection: Connection): TlsSession | undefined {
    return this.#tlsFactsOf(connection)?.session;
  }

  #tlsFactsOf(connection: Connection): TlsFacts | undefined {
    let facts = this.#sessions.get(connection);
    if (facts === undefined) {
      if (connection.transport !== 'tls' && connection.transport !== 'wss') return undefined;
      facts = tlsFactsOf(connection) ?? null;
      this.#sessions.set(connection, facts);
    }
    return facts ?? undefined;
  }

  #receive(bytes: Buffer, context: TransportContext, framing: 'stream' | 'datagram', connection?: Connection): void {
    const result = inspectMessage(bytes, { framing, limits: this.sipLimits });
    if (result.ok) {
      if (connection !== undefined && result.message.kind === 'request') this.handlers.onStreamRequest?.(result.message, connection);
      this.handlers.onMessage(result.message, context);
      return;
    }
    this.log({ level: 'info', event: 'invalid-message', remote: context.remote, reason: result.faults.map((f) => f.code).join(',') });
    this.handlers.onInvalid?.(result, context);
  }
}

interface TlsFacts {
  readonly session: TlsSession | undefined;
  /** Inbound only: the name in the peer's ClientHello. */
  readonly sni: string | undefined;
}

/** What a TLS or WSS connection negotiated; StreamConnection and WsConnection both keep their socket. */
function tlsFactsOf(connection: Connection): TlsFacts | undefined {
  const socket: unknown = 'socket' in connection ? connection.socket : undefined;
  if (!(socket instanceof tls.TLSSocket)) return undefined;
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher() as tls.CipherNameAndProtocol | undefined;
  // On a client socket servername is the name we sent, not one the peer asked for.
  const asked = connection.direction === 'inbound' ? socket.servername : undefined;
  return {
    session: protocol === null || cipher === undefined ? undefined : { protocol, cipher: cipher.standardName },
    sni: typeof asked === 'string' && asked !== '' ? asked : undefined,
  };
}

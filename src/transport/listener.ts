import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { SipLimits, TransportLimits } from '../limits.js';
import type { ConnectionAdmission } from './admission.js';
import type { ConnectionTable } from './connection-table.js';
import type { ConnectionFactory } from './connection-factory.js';
import type { InboundTls } from './inbound-tls.js';
import type { SecureContextCache } from './secure-context-cache.js';
import type { ServerCertificate } from './tls-server-options.js';
import type { Endpoint, TransportProtocol } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

export interface ListenerSpec {
  readonly transport: TransportProtocol;
  /** IP address to bind (127.0.0.1, ::1, 0.0.0.0 ...). */
  readonly address: string;
  /** 0 picks a free port; see TransportLayer.listening(). */
  readonly port: number;
  /** TLS and WSS listeners: one or more certificates (SNI picks one per hosted domain). */
  readonly certificates?: readonly ServerCertificate[];
  /**
   * WS and WSS listeners: the only HTTP request path upgraded (query ignored, others get 404);
   * absent: any path. The `sip` subprotocol is always required (RFC 7118 section 4.1).
   */
  readonly path?: string;
}

/** A bound listener, as the transport layer holds it until close(). */
export interface Listening {
  readonly spec: ListenerSpec;
  readonly endpoint: Endpoint;
  /**
   * Stops taking new connections (stream listeners: the kernel refuses new connects from then on);
   * resolves once the listener is fully closed, which for a stream listener is after its last connection.
   */
  readonly stopAccepting: () => Promise<void>;
  /** Drops what the connection table does not hold (HTTP connections that never upgraded) and closes UDP sockets. */
  readonly closeRemaining: () => void;
}

/** What the stream listeners (TCP, TLS, WS, WSS) share with the layer that owns them. */
export interface ListenerContext {
  readonly limits: TransportLimits;
  readonly sipLimits: SipLimits;
  readonly log: TransportLog;
  readonly contexts: SecureContextCache;
  readonly table: ConnectionTable;
  readonly admission: ConnectionAdmission;
  readonly inboundTls: InboundTls;
  readonly connections: ConnectionFactory;
  /** `draining`: listeners refuse new connections, existing ones still carry messages both ways. */
  readonly state: () => 'open' | 'draining' | 'closed';
}

/** `TLS listener 127.0.0.1:5061`, for errors and log details. */
export function listenerName(spec: ListenerSpec): string {
  return `${spec.transport.toUpperCase()} listener ${spec.address}:${spec.port}`;
}

/**
 * Binds a stream server (TCP, TLS, HTTP or HTTPS for WebSocket) with the layer's connection
 * limits: maxConnections on the server itself (Node drops the excess before any event but 'drop',
 * which is logged), and the per-address limits before any handshake (ConnectionAdmission).
 */
export async function bindStreamServer(server: net.Server, spec: ListenerSpec, context: ListenerContext): Promise<Listening> {
  const where = listenerName(spec);
  const { limits, log } = context;
  server.maxConnections = limits.maxConnections;
  server.on('drop', (data?: net.DropArgument) => {
    log({ level: 'warn', event: 'connection-refused', remote: { address: data?.remoteAddress ?? '', port: data?.remotePort ?? 0 }, reason: 'connection-limit', detail: `maxConnections = ${limits.maxConnections} reached on ${where}` });
  });
  context.admission.guardHandshakes(server, where);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.address, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  server.on('error', (err: Error) => log({ level: 'warn', event: 'listener-error', reason: err.message }));
  const address = server.address() as net.AddressInfo;
  const isHttp = server instanceof http.Server || server instanceof https.Server;
  return {
    spec,
    endpoint: { address: address.address, port: address.port },
    stopAccepting: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive HTTP connections of WS listeners could upgrade later: not new connections, but new work.
        if (isHttp) server.closeIdleConnections();
      }),
    // HTTP connections of WS listeners that never upgraded would hold the listener's close.
    closeRemaining: () => {
      if (isHttp) server.closeAllConnections();
    },
  };
}

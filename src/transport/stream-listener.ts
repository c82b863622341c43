import net from 'node:net';
import tls from 'node:tls';
import type { PeerVerdict } from '../tls/verdict.js';
import { bindStreamServer, listenerName, type ListenerContext, type ListenerSpec, type Listening } from './listener.js';
import { tlsServerOptions } from './tls-server-options.js';

/**
 * A TCP or TLS listener (RFC 3261 section 18): each accepted connection, TLS ones once through
 * their handshake and client-certificate check, is admitted under the connection limits and
 * framed as a stream.
 */
export function listenStream(spec: ListenerSpec & { readonly transport: 'tcp' | 'tls' }, context: ListenerContext): Promise<Listening> {
  const server = spec.transport === 'tcp'
    ? net.createServer((socket) => accept(socket, 'tcp', undefined, context))
    : createTlsServer(spec, context);
  return bindStreamServer(server, spec, context);
}

function createTlsServer(spec: ListenerSpec, context: ListenerContext): tls.Server {
  const server = tls.createServer(tlsServerOptions(spec.certificates ?? [], context.contexts, context.limits.tlsHandshakeTimeoutMs, listenerName(spec)));
  server.on('secureConnection', (socket) => {
    const { admitted, verdict } = context.inboundTls.admitClient(socket);
    if (admitted) accept(socket, 'tls', verdict, context);
    else socket.destroy();
  });
  context.inboundTls.logHandshakeFailures(server);
  return server;
}

function accept(socket: net.Socket, transport: 'tcp' | 'tls', peer: PeerVerdict | undefined, context: ListenerContext): void {
  // A TLS handshake that began before close() and ended after it has nothing left to serve it.
  if (context.state() === 'closed') {
    socket.destroy();
    return;
  }
  if (!context.admission.admit(socket)) return;
  context.table.add(context.connections.stream(socket, transport, 'inbound', peer));
}

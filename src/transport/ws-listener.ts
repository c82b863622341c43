import type tls from 'node:tls';
import { bindStreamServer, listenerName, type ListenerContext, type ListenerSpec, type Listening } from './listener.js';
import { tlsServerOptions } from './tls-server-options.js';
import { createWsServer } from './ws-transport.js';

/**
 * A WS or WSS listener (RFC 7118): an HTTP or HTTPS server upgrading to SIP over WebSocket, with
 * the same certificate choice and client-certificate verification as the TLS listener and the
 * same connection limits, checked before the TLS handshake and again at the upgrade.
 */
export function listenWs(spec: ListenerSpec & { readonly transport: 'ws' | 'wss' }, context: ListenerContext): Promise<Listening> {
  const { admission, inboundTls, limits } = context;
  const transport = spec.transport;
  const server = createWsServer({
    ...(transport === 'wss'
      ? { tls: tlsServerOptions(spec.certificates ?? [], context.contexts, limits.tlsHandshakeTimeoutMs, listenerName(spec)), verifyTlsClient: (socket: tls.TLSSocket) => inboundTls.admitClient(socket) }
      : {}),
    ...(spec.path !== undefined ? { path: spec.path } : {}),
    maxPayloadBytes: context.sipLimits.maxMessageBytes,
    headersTimeoutMs: limits.wsUpgradeTimeoutMs,
    // An upgrade is new work: refused once close() began, like a new connection. The socket's own
    // count since its accept ends here: it is the connection being admitted.
    admit: (remote, socket) => {
      admission.release(socket);
      return context.state() !== 'open' ? 'transport-closing' : admission.underLimits(remote.address) ? undefined : 'connection-limit';
    },
    onOpen: (ws, socket, peer) => {
      admission.release(socket);
      if (context.state() === 'closed') {
        ws.terminate();
        return;
      }
      context.table.add(context.connections.ws(ws, socket, transport, 'inbound', peer));
    },
    log: context.log,
  });
  if (transport === 'wss') inboundTls.logHandshakeFailures(server as tls.Server);
  return bindStreamServer(server, spec, context);
}

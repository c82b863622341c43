/** Real TLS servers on 127.0.0.1, port 0, for the verifier's integration tests. */
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { TestCertificate } from '../../src/lab/certificates.js';

export interface RunningTlsServer {
  readonly port: number;
  /** Handshakes completed so far. */
  readonly handshakes: () => number;
  /** Sockets of completed handshakes, for inspecting client certificates. */
  readonly sockets: TLSSocket[];
  close(): Promise<void>;
}

export interface TlsServerOptions {
  /** The chain the server sends, leaf first, and the leaf's key. */
  readonly chain: readonly TestCertificate[];
  /** Ask the client for a certificate (not required; the verifier decides). */
  readonly requestCert?: boolean;
}

/** Starts an echo server that presents `chain`; close() ends every connection and the listener. */
export async function startTlsServer(options: TlsServerOptions): Promise<RunningTlsServer> {
  const [leaf] = options.chain;
  if (leaf === undefined) throw new Error('a server needs a certificate');
  const sockets: TLSSocket[] = [];
  let handshakes = 0;
  const server: Server = createServer({
    cert: options.chain.map((c) => c.pem).join(''),
    key: leaf.keyPem,
    requestCert: options.requestCert ?? false,
    rejectUnauthorized: false,
    ca: [],
  }, (socket) => {
    handshakes++;
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  // Raw TCP sockets too: a client that failed a test before its handshake finished must not keep close() waiting.
  const raw = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    raw.add(socket);
    socket.once('close', () => raw.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    handshakes: () => handshakes,
    sockets,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      for (const s of raw) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * TLS (and TCP) servers on 127.0.0.1, port 0, that misbehave the ways found against `sipsec
 * options`: bytes without end, a 200 KB header line, a handshake that never comes.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { TestCertificate } from '../../src/lab/certificates.js';

export type Misbehaviour =
  /** After the handshake, bytes without a line end, as fast as the client reads them. */
  | 'flood'
  /** Answers the first request with a response whose one header line is 200 KB long. */
  | 'long-header-line'
  /** Answers the first request with a response that is not SIP at all. */
  | 'garbage-response'
  /** Answers 200 with terminal escape sequences in its reason phrase and a header (retitle, clear screen). */
  | 'escape-sequences';

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

const LONG_LINE_BYTES = 200 * 1024;

export async function startMisbehavingTlsServer(leaf: TestCertificate, behaviour: Misbehaviour): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert: leaf.pem, key: leaf.keyPem }, (socket: TLSSocket) => {
    socket.on('error', () => undefined);
    if (behaviour === 'flood') {
      const chunk = Buffer.alloc(64 * 1024, 'A');
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk));
      };
      socket.on('drain', pump);
      pump();
      return;
    }
    socket.once('data', (request: Buffer) => {
      if (behaviour === 'escape-sequences') {
        // A response the client matches to its request: the request's own Via, From, To, Call-ID, CSeq.
        const echoed = request.toString('latin1').split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
        socket.write(`SIP/2.0 200 OK \x1b]0;pwned\x07\r\n${echoed.join('\r\n')}\r\nX-Evil: \x1b[2J\x9b31m\r\nContent-Length: 0\r\n\r\n`, 'latin1');
      } else if (behaviour === 'long-header-line') {
        socket.write(`SIP/2.0 200 OK\r\nX-Long: ${'a'.repeat(LONG_LINE_BYTES)}\r\nContent-Length: 0\r\n\r\n`);
      } else {
        socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return listening(server, sockets);
}

/** Accepts TCP connections and never says a word: a TLS client waits for the ServerHello forever. */
export async function startSilentTcpServer(): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return listening(server, sockets);
}

async function listening(server: Server | TcpServer, sockets: Set<Socket>): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A port on 127.0.0.1 where nothing listens: bound, then closed again. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/**
 * A TLS server for transport-tls.bench.ts, run as its own process so that, like Kamailio, it does
 * not share an event loop with the load-generating client. Two kinds:
 * - `sipsec`: the sipsec Responder (TransportLayer + TransactionLayer) with one mutual-TLS listener;
 * - `node`: a bare node:tls server (mutual TLS, OpenSSL verifying the client chain) that frames
 *   requests with StreamFramer and writes a fixed 200, the floor a Node server can reach.
 * Configuration comes as JSON in SIPSEC_BENCH_RESPONDER; the bound port is printed as one line on
 * stdout. Exits when stdin closes (the bench ended or died) or on SIGTERM.
 */
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { StreamFramer } from '../src/sip/stream-framer.js';
import { TrustStore } from '../src/tls/trust-store.js';
import { Responder } from '../src/ua/responder.js';

interface ResponderConfig {
  readonly kind: 'sipsec' | 'node';
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly domain: string;
}

function readConfig(): ResponderConfig {
  const raw = process.env.SIPSEC_BENCH_RESPONDER;
  if (raw === undefined) throw new Error('SIPSEC_BENCH_RESPONDER is not set');
  const parsed = JSON.parse(raw) as Partial<ResponderConfig>;
  const { kind, cert, key, ca, domain } = parsed;
  if ((kind !== 'sipsec' && kind !== 'node') || typeof cert !== 'string' || typeof key !== 'string' || typeof ca !== 'string' || typeof domain !== 'string') {
    throw new Error('SIPSEC_BENCH_RESPONDER needs kind (sipsec or node), cert, key, ca and domain');
  }
  return { kind, cert, key, ca, domain };
}

const FIXED_200 = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');

async function startBareNode(config: ResponderConfig): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer({ cert: config.cert, key: config.key, ca: [config.ca], requestCert: true, rejectUnauthorized: true }, (socket) => {
    const framer = new StreamFramer();
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.type === 'message') socket.write(FIXED_200);
        else if (item.type === 'framing-error') socket.destroy();
      }
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function startSipsec(config: ResponderConfig): Promise<{ port: number; close: () => Promise<void> }> {
  const responder = await Responder.start({
    listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: [config.domain], cert: config.cert, key: config.key }] }],
    trustStore: TrustStore.fromPem(config.ca),
    requireClientCertificate: true,
    // Every benchmark connection comes from 127.0.0.1; the per-address default (64) is for the open Internet.
    limits: { maxConnectionsPerAddress: 4096 },
    log: () => undefined,
  });
  return { port: responder.listening()[0]?.port ?? 0, close: () => responder.close() };
}

async function main(): Promise<void> {
  const config = readConfig();
  const server = config.kind === 'sipsec' ? await startSipsec(config) : await startBareNode(config);
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    // Open connections may keep a bare server's close pending; the process ends either way.
    setTimeout(() => process.exit(0), 2_000).unref();
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', close);
  process.stdin.on('end', close);
  process.stdin.resume();
  process.stdout.write(`${server.port}\n`);
}

await main();

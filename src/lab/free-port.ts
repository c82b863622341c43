/** Free loopback ports and waiting for a daemon to listen: tools for demos and tests on one machine. */
import net from 'node:net';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

/**
 * A port free on `host` (default 127.0.0.1) for both TCP and UDP right now, for daemons that cannot bind port 0
 * and report it (NSD, Unbound, SIPp, Kamailio). Another process could take it before the daemon binds; the
 * daemon then fails to start and the test says so.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error(`no free port found on ${host}`);
}

/** Resolves once something accepts TCP connections on the port, or rejects after timeoutMs. */
export async function waitForTcp(port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`the daemon exited before listening on ${port}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Resolves once a SIP element answers an OPTIONS over UDP at address:port (any response will do),
 * or rejects after timeoutMs. For daemons that listen on UDP only, where a TCP connect proves nothing.
 */
export async function waitForSipUdp(address: string, port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(0, address, () => resolve()));
  const local = socket.address();
  // Unique per probe, so that a late answer to an earlier probe is still an answer, never confused with another run's.
  const tag = randomBytes(6).toString('hex');
  let answered = false;
  socket.on('message', (msg) => {
    if (msg.subarray(0, 8).toString('latin1') === 'SIP/2.0 ') answered = true;
  });
  try {
    const deadline = Date.now() + timeoutMs;
    for (let n = 0; Date.now() < deadline; n++) {
      if (!isAlive()) throw new Error(`the daemon exited before answering on udp ${address}:${port}`);
      const probe = [
        `OPTIONS sip:${address}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK-ready-${tag}-${n};rport`,
        'Max-Forwards: 70',
        `From: <sip:ready@${local.address}>;tag=ready${n}`,
        `To: <sip:${address}:${port}>`,
        `Call-ID: ready-${tag}-${n}@${local.address}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '', '',
      ].join('\r\n');
      socket.send(probe, port, address);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (answered) return;
    }
    throw new Error(`nothing answered OPTIONS on udp ${address}:${port} within ${timeoutMs} ms`);
  } finally {
    socket.close();
  }
}

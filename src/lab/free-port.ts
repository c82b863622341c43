/** Free loopback ports and waiting for a daemon to listen: tools for demos and tests on one machine. */
import net from 'node:net';
import dgram from 'node:dgram';

/**
 * A port free on 127.0.0.1 for both TCP and UDP right now, for daemons that cannot bind port 0
 * and report it (NSD, Unbound, SIPp, Kamailio). Another process could take it before the daemon binds; the
 * daemon then fails to start and the test says so.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no free port found on 127.0.0.1');
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

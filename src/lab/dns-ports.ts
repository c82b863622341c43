/** Free loopback ports for DNS daemons: tools for demos and tests on one machine. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * A loopback port free for both UDP and TCP right now, for a daemon that cannot bind port 0
 * itself (NSD, Unbound). Another process could take it before the daemon starts; the daemon then
 * fails to start and says so.
 */
export async function freeDnsPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => {
          if (address === null || typeof address === 'string') reject(new Error('no port'));
          else resolve(address.port);
        });
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free loopback port for UDP and TCP');
}

import { createSocket, type Socket } from 'node:dgram';

/** A loopback UDP socket that reads DNS queries and never answers: the real shape of a timeout. */
export interface DnsBlackhole {
  readonly port: number;
  /** How many datagrams arrived (shows that the resolver did ask). */
  readonly received: () => number;
  close(): Promise<void>;
}

export async function startDnsBlackhole(): Promise<DnsBlackhole> {
  const socket: Socket = createSocket('udp4');
  let received = 0;
  socket.on('message', () => {
    received++;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  let closed = false;
  return {
    port,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

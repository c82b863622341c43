import dgram from 'node:dgram';
import net from 'node:net';
import type { ListenerSpec, Listening } from './listener.js';
import type { ReceivePath } from './receive-path.js';
import { TransportError, type Destination, type Endpoint } from './transport-context.js';
import type { TransportLog } from './transport-log.js';

/**
 * The UDP sockets of a layer (RFC 3261 section 18): each listener receives datagrams, and a send
 * goes out of the first listener of the destination's address family.
 */
export class UdpSockets {
  readonly #sockets: Array<{ socket: dgram.Socket; family: 4 | 6; endpoint: Endpoint }> = [];

  constructor(
    private readonly receive: ReceivePath,
    private readonly log: TransportLog,
  ) {}

  async listen(spec: ListenerSpec): Promise<Listening> {
    const family = net.isIPv6(spec.address) ? 6 : 4;
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(spec.port, spec.address, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    const local = socket.address();
    const endpoint = { address: local.address, port: local.port };
    socket.on('message', (bytes, rinfo) => {
      // RFC 5626 section 4.4.2 keep-alives over UDP are STUN; a bare CRLF datagram is ignored.
      if (bytes.length <= 4 && bytes.toString('latin1').trim() === '') return;
      this.receive.datagram(bytes, {
        transport: 'udp',
        local: endpoint,
        remote: { address: rinfo.address, port: rinfo.port },
        connectionId: undefined,
        peer: undefined,
        receivedAtMs: Date.now(),
      });
    });
    socket.on('error', (err) => this.log({ level: 'warn', event: 'udp-error', reason: err.message }));
    this.#sockets.push({ socket, family, endpoint });
    // A UDP socket keeps receiving while draining: ACKs and retransmissions of running transactions
    // arrive on it, and only the transaction layer can tell them from new requests (which it answers 503).
    let closed: () => void = () => undefined;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    return { spec, endpoint, stopAccepting: () => socketClosed, closeRemaining: () => socket.close(() => closed()) };
  }

  send(bytes: Buffer, destination: Destination): Promise<void> {
    const family = net.isIPv6(destination.address) ? 6 : 4;
    const udp = this.#sockets.find((u) => u.family === family);
    if (udp === undefined) return Promise.reject(new TransportError('unreachable', `no UDP listener for IPv${family}`));
    return new Promise((resolve, reject) => {
      udp.socket.send(bytes, destination.port, destination.address, (err) => {
        if (err) reject(new TransportError('unreachable', err.message, undefined, { cause: err }));
        else resolve();
      });
    });
  }
}

/**
 * A TransactionLayer on a real UDP socket on 127.0.0.1 (port 0), for the transaction tests: send
 * serializes with serializeMessage, the socket's datagrams are parsed with parseMessage and passed
 * to receive() with their TransportContext. `drop` simulates a lost datagram on the sending side.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { SipMessage } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parse-message.js';
import { serializeMessage } from '../../src/sip/serialize-message.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../src/transaction/transaction-layer.js';
import { TransportError } from '../../src/transport/transport-context.js';

export interface UdpPeer {
  readonly layer: TransactionLayer;
  readonly socket: Socket;
  readonly port: number;
  /** Datagrams sent, dropped and received, as `INVITE`, `180 INVITE` ... in order. */
  readonly sent: string[];
  readonly dropped: string[];
  readonly received: string[];
  /** Closes the layer (letting transactions finish, or forcing them) and then the socket. */
  close(options?: { force?: boolean }): Promise<void>;
}

export type UdpPeerOptions = Omit<TransactionLayerOptions, 'send'> & {
  /** Return true to lose this datagram instead of sending it. */
  readonly drop?: (message: SipMessage) => boolean;
};

export function describeMessage(message: SipMessage): string {
  return message.kind === 'request' ? message.method : `${message.status} ${message.cseq().method}`;
}

export async function openUdpPeer(options: UdpPeerOptions): Promise<UdpPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  const sent: string[] = [];
  const dropped: string[] = [];
  const received: string[] = [];
  const layer = new TransactionLayer({
    ...options,
    send: (message, destination) =>
      new Promise<void>((resolve, reject) => {
        const label = describeMessage(message);
        if (options.drop?.(message) === true) {
          dropped.push(label);
          resolve();
          return;
        }
        sent.push(label);
        socket.send(serializeMessage(message), destination.port, destination.address, (err) => {
          if (err === null) resolve();
          else reject(new TransportError('unreachable', err.message, undefined, { cause: err }));
        });
      }),
  });
  socket.on('message', (bytes, rinfo) => {
    let message: SipMessage;
    try {
      message = parseMessage(bytes);
    } catch {
      return;
    }
    received.push(describeMessage(message));
    layer.receive(message, {
      transport: 'udp',
      local: { address: '127.0.0.1', port },
      remote: { address: rinfo.address, port: rinfo.port },
      connectionId: undefined,
      peer: undefined,
      receivedAtMs: Date.now(),
    });
  });
  return {
    layer,
    socket,
    port,
    sent,
    dropped,
    received,
    close: async (closeOptions = {}) => {
      await layer.close(closeOptions);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

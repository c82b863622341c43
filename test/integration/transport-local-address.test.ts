/**
 * bindOutboundToListener on real sockets: the stack's outbound TCP and TLS connections reach a
 * peer from the address its listener of the same transport is bound to (a far reverse-dns check
 * looks up the PTR of that address), with a port the system picks; UDP goes out of the listener
 * socket itself. 127.0.0.171 is the stack's, 127.0.0.172 the peer's; every port is picked at bind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { EKU_SERVER_AUTH, issueCertificate } from '../../src/lab/certificates.js';
import { parseMessage } from '../../src/sip/parse-message.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import { options } from '../../src/transport/fixtures.test.support.js';
import { TransportError } from '../../src/transport/transport-context.js';
import { TransportLayer, type ListenerSpec } from '../../src/transport/transport-layer.js';

const OURS = '127.0.0.171';
const PEER = '127.0.0.172';

const ca = issueCertificate({ cn: 'Local Address Test CA', ca: true });
const peerCert = issueCertificate({ cn: 'peer.example', issuer: ca, san: { dns: ['peer.example'] }, eku: [EKU_SERVER_AUTH] });
const ourCert = issueCertificate({ cn: 'ours.example', issuer: ca, san: { dns: ['ours.example'] }, eku: [EKU_SERVER_AUTH] });
const trustStore = TrustStore.fromPem(ca.pem);

/** A peer that records where each connection came from. */
interface Peer {
  readonly port: number;
  readonly sources: Array<{ address: string; port: number }>;
  close(): Promise<void>;
}

const peers: Peer[] = [];
after(async () => {
  await Promise.all(peers.map((p) => p.close()));
});

async function peer(server: net.Server, event: 'connection' | 'secureConnection'): Promise<Peer> {
  const sources: Peer['sources'] = [];
  const sockets: net.Socket[] = [];
  server.on(event, (socket: net.Socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    sources.push({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
  });
  server.listen(0, PEER);
  await once(server, 'listening');
  const p: Peer = {
    port: (server.address() as net.AddressInfo).port,
    sources,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  peers.push(p);
  return p;
}

const tcpPeer = (): Promise<Peer> => peer(net.createServer(), 'connection');
const tlsPeer = (): Promise<Peer> => peer(tls.createServer({ cert: peerCert.pem + ca.pem, key: peerCert.keyPem }), 'secureConnection');

async function stack(listeners: ListenerSpec[], bindOutboundToListener: boolean | undefined): Promise<TransportLayer> {
  return TransportLayer.start({
    listeners,
    trustStore,
    ...(bindOutboundToListener !== undefined ? { bindOutboundToListener } : {}),
    onMessage: () => undefined,
    log: () => undefined,
  });
}

const tlsListener = (address: string): ListenerSpec => ({ transport: 'tls', address, port: 0, certificates: [{ domains: ['ours.example'], cert: ourCert.pem, key: ourCert.keyPem }] });

function portOf(layer: TransportLayer, transport: ListenerSpec['transport']): number {
  return layer.listening().find((l) => l.transport === transport)?.port ?? 0;
}

test('with bindOutboundToListener, TCP and TLS connections come from the listener address of their transport (UDP from the listener socket)', async () => {
  const [tcp, secure] = [await tcpPeer(), await tlsPeer()];
  const udp = dgram.createSocket('udp4');
  udp.bind(0, PEER);
  await once(udp, 'listening');
  const datagram = once(udp, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
  const layer = await stack([{ transport: 'udp', address: OURS, port: 0 }, { transport: 'tcp', address: OURS, port: 0 }, tlsListener(OURS)], true);
  try {
    await layer.send(parseMessage(options(1)), { transport: 'tcp', address: PEER, port: tcp.port });
    const { peer: verdict } = await layer.send(parseMessage(options(2)), { transport: 'tls', address: PEER, port: secure.port, tlsTarget: { sipDomain: 'peer.example' } });
    assert.equal(verdict?.authenticated, true);
    assert.equal(tcp.sources[0]?.address, OURS);
    assert.equal(secure.sources[0]?.address, OURS);
    // No fixed local port: the listener's own port stays a listener's.
    assert.notEqual(tcp.sources[0]?.port, portOf(layer, 'tcp'));
    assert.notEqual(secure.sources[0]?.port, portOf(layer, 'tls'));
    await layer.send(parseMessage(options(3)), { transport: 'udp', address: PEER, port: (udp.address()).port });
    const [, rinfo] = await datagram;
    assert.deepEqual([rinfo.address, rinfo.port], [OURS, portOf(layer, 'udp')]);
  } finally {
    await layer.close();
    udp.close();
  }
});

test('without the option, from a wildcard listener, or with only another transport listening there, the system picks the source', async () => {
  const [tcp, secure] = [await tcpPeer(), await tlsPeer()];
  const off = await stack([{ transport: 'tcp', address: OURS, port: 0 }], undefined);
  const wildcard = await stack([{ transport: 'tcp', address: '0.0.0.0', port: 0 }], true);
  // A TCP listener on our address does not bind TLS connections: the option is per transport.
  const tcpOnly = await stack([{ transport: 'tcp', address: OURS, port: 0 }], true);
  try {
    await off.send(parseMessage(options(1)), { transport: 'tcp', address: PEER, port: tcp.port });
    await wildcard.send(parseMessage(options(2)), { transport: 'tcp', address: PEER, port: tcp.port });
    await tcpOnly.send(parseMessage(options(3)), { transport: 'tls', address: PEER, port: secure.port, tlsTarget: { sipDomain: 'peer.example' } });
    // The system's choice toward another loopback address is 127.0.0.1 (the loopback route's source).
    assert.deepEqual(tcp.sources.map((s) => s.address), ['127.0.0.1', '127.0.0.1']);
    assert.deepEqual(secure.sources.map((s) => s.address), ['127.0.0.1']);
  } finally {
    await Promise.all([off.close(), wildcard.close(), tcpOnly.close()]);
  }
});

test('a loopback-bound listener cannot reach another host: the send fails as unreachable, naming the local address', async () => {
  const layer = await stack([{ transport: 'tcp', address: OURS, port: 0 }], true);
  try {
    // 192.0.2.1 (TEST-NET-1): a loopback source address cannot leave the host (EINVAL, or no route).
    const failure = await layer.send(parseMessage(options(1)), { transport: 'tcp', address: '192.0.2.1', port: 5060 }).then(() => undefined, (err: unknown) => err);
    assert.ok(failure instanceof TransportError, String(failure));
    assert.equal(failure.reason, 'unreachable');
    assert.match(failure.detail, /192\.0\.2\.1:5060 from 127\.0\.0\.171/);
  } finally {
    await layer.close();
  }
});

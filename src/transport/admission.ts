import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import type { TransportLimits } from '../limits.js';
import type { ConnectionTable } from './connection-table.js';
import type { TransportLog } from './transport-log.js';

/**
 * The connection limits (maxConnections, maxConnectionsPerAddress), applied where a connection
 * costs the least: on the raw TCP connection of a TLS, WS or WSS listener before any handshake,
 * and on every connection before it enters the table. Connections still in their TLS handshake or
 * short of their WebSocket upgrade are in no table, so they are counted here, per address, until
 * their handshake or upgrade ends: a hostile address must not cost more handshakes than it may
 * hold connections.
 */
export class ConnectionAdmission {
  readonly #handshaking = new Map<string, { readonly socket: net.Socket; readonly release: () => void }>();
  readonly #handshakesPerAddress = new Map<string, number>();

  constructor(
    private readonly table: ConnectionTable,
    private readonly limits: TransportLimits,
    private readonly log: TransportLog,
  ) {}

  /** The limit one more connection from or to this address would exceed, counting handshakes in progress. */
  limitExceeded(address: string): string | undefined {
    const total = this.table.size + this.#handshaking.size;
    if (total >= this.limits.maxConnections) return `maxConnections = ${this.limits.maxConnections} reached`;
    const perAddress = this.table.countForAddress(address) + (this.#handshakesPerAddress.get(address) ?? 0);
    if (perAddress >= this.limits.maxConnectionsPerAddress) return `maxConnectionsPerAddress = ${this.limits.maxConnectionsPerAddress} reached for ${address}`;
    return undefined;
  }

  /** Whether one more connection from or to this address stays within the connection limits. */
  underLimits(address: string): boolean {
    return this.limitExceeded(address) === undefined;
  }

  /**
   * A connection through its handshake, about to enter the table: its own handshake no longer
   * counts (it is the connection being admitted), and the limits are checked once more. A refused
   * socket is logged and destroyed.
   */
  admit(socket: net.Socket): boolean {
    this.release(socket);
    const address = socket.remoteAddress ?? '';
    const refusal = this.limitExceeded(address);
    if (refusal === undefined) return true;
    this.log({ level: 'warn', event: 'connection-refused', remote: { address, port: socket.remotePort ?? 0 }, reason: 'connection-limit', detail: refusal });
    socket.destroy();
    return false;
  }

  /**
   * Applies the connection limits to the raw TCP connection of a TLS, WS or WSS listener, before a
   * handshake costs anything, and counts the connection against them until its TLS handshake (TLS)
   * or its WebSocket upgrade (WS, WSS) ends. WS and WSS connections get a deadline for the upgrade too.
   * Call it after the listener's own 'secureConnection' handler is registered (see the end).
   */
  guardHandshakes(server: net.Server, where: string): void {
    const isHttp = server instanceof http.Server || server instanceof https.Server;
    if (!isHttp && !(server instanceof tls.Server)) return;
    const before = isHttp && !(server instanceof tls.Server) ? 'the WebSocket upgrade' : 'the TLS handshake';
    // Before the server's own listener takes the socket, so that a refused one never starts a handshake.
    server.prependListener('connection', (socket: net.Socket) => {
      const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      const refusal = this.limitExceeded(remote.address);
      if (refusal !== undefined) {
        this.log({ level: 'warn', event: 'connection-refused', remote, reason: 'connection-limit', detail: `${refusal}, before ${before} on ${where}` });
        socket.destroy();
        return;
      }
      const key = handshakeKey(socket);
      let released = false;
      // Node's HTTP header timeout is only checked by a 30 s sweep: the upgrade deadline is ours.
      const upgradeTimer = isHttp
        ? setTimeout(() => {
            this.log({ level: 'warn', event: 'connection-closed', remote, reason: 'upgrade-timeout', detail: `no WebSocket upgrade within wsUpgradeTimeoutMs = ${this.limits.wsUpgradeTimeoutMs} on ${where}` });
            socket.destroy();
          }, this.limits.wsUpgradeTimeoutMs).unref()
        : undefined;
      const release = (): void => {
        if (released) return;
        released = true;
        clearTimeout(upgradeTimer);
        this.#handshaking.delete(key);
        const left = (this.#handshakesPerAddress.get(remote.address) ?? 1) - 1;
        if (left <= 0) this.#handshakesPerAddress.delete(remote.address);
        else this.#handshakesPerAddress.set(remote.address, left);
      };
      this.#handshaking.set(key, { socket, release });
      this.#handshakesPerAddress.set(remote.address, (this.#handshakesPerAddress.get(remote.address) ?? 0) + 1);
      socket.once('close', release);
    });
    // Registered after the listener's handler that admits the connection: that one still counts
    // this handshake, so it releases it first too (admit). WS and WSS connections are released at
    // their upgrade or their close.
    if (!isHttp) server.on('secureConnection', (socket: tls.TLSSocket) => this.release(socket));
  }

  /** The socket's handshake or upgrade is over: it no longer counts here. */
  release(socket: net.Socket): void {
    this.#handshaking.get(handshakeKey(socket))?.release();
  }

  /** Sockets still in their TLS handshake are in no table, and a listener's close would wait for them. */
  destroyHandshaking(): void {
    for (const { socket } of [...this.#handshaking.values()]) socket.destroy();
  }
}

/** One inbound connection: the listener's port too, since one client port can reach two listeners. */
function handshakeKey(socket: net.Socket): string {
  return `${socket.localPort ?? 0}|${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

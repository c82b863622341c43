import type { Connection } from './connection.js';
import { isSecureTransport, type TransportProtocol } from './transport-context.js';

/**
 * Open connections (TCP, TLS, WS, WSS), found by id (responses go back on the connection a request
 * came in on) or by (transport, remote address, port) for reuse, and RFC 5923 aliases (inbound
 * connections offered for our requests back) by the names and port they answer for. A TLS or WSS
 * connection is reused only when the caller's check accepts it (connection-reuse.ts: DESIGN rule
 * 5), never by IP:port alone. The per-address and total counts are what the connection limits read.
 */
export class ConnectionTable {
  readonly #byId = new Map<string, Connection>();
  readonly #byRemote = new Map<string, Set<Connection>>();
  readonly #perAddress = new Map<string, number>();
  /** RFC 5923 aliases: inbound connections a peer offered for our requests back, by the names and port they answer for. */
  readonly #aliases = new Map<string, Set<Connection>>();
  readonly #aliasKeys = new WeakMap<Connection, string[]>();

  get size(): number {
    return this.#byId.size;
  }

  countForAddress(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  add(connection: Connection): void {
    this.#byId.set(connection.id, connection);
    const key = remoteKey(connection.transport, connection.remote.address, connection.remote.port);
    let set = this.#byRemote.get(key);
    if (set === undefined) this.#byRemote.set(key, (set = new Set()));
    set.add(connection);
    this.#perAddress.set(connection.remote.address, this.countForAddress(connection.remote.address) + 1);
  }

  remove(connection: Connection): void {
    if (!this.#byId.delete(connection.id)) return;
    const key = remoteKey(connection.transport, connection.remote.address, connection.remote.port);
    const set = this.#byRemote.get(key);
    set?.delete(connection);
    if (set?.size === 0) this.#byRemote.delete(key);
    const count = this.countForAddress(connection.remote.address) - 1;
    if (count <= 0) this.#perAddress.delete(connection.remote.address);
    else this.#perAddress.set(connection.remote.address, count);
    for (const aliasKey of this.#aliasKeys.get(connection) ?? []) {
      const aliased = this.#aliases.get(aliasKey);
      aliased?.delete(connection);
      if (aliased?.size === 0) this.#aliases.delete(aliasKey);
    }
    this.#aliasKeys.delete(connection);
  }

  /**
   * Makes an open connection (inbound, whose peer offered it with Via `alias`) a candidate for our
   * requests to `names` (the Via sent-by host and the address the connection comes from, RFC 5923
   * section 8.2) on `port`. Being found by name and port is only the first condition: findAlias's
   * caller still checks the peer's identities and our own.
   */
  addAlias(connection: Connection, names: readonly string[], port: number): void {
    if (connection.closed || this.#byId.get(connection.id) !== connection) return;
    const keys = this.#aliasKeys.get(connection) ?? [];
    for (const name of names) {
      const key = remoteKey(connection.transport, name.toLowerCase(), port);
      if (keys.includes(key)) continue;
      keys.push(key);
      let set = this.#aliases.get(key);
      if (set === undefined) this.#aliases.set(key, (set = new Set()));
      set.add(connection);
    }
    this.#aliasKeys.set(connection, keys);
  }

  /** An aliased connection answering for one of `names` (host names or addresses) on `port` that `accepts` takes. */
  findAlias(transport: TransportProtocol, names: readonly string[], port: number, accepts: (connection: Connection) => boolean): Connection | undefined {
    for (const name of names) {
      const set = this.#aliases.get(remoteKey(transport, name.toLowerCase(), port));
      if (set === undefined) continue;
      for (const connection of set) {
        if (!connection.closed && accepts(connection)) return connection;
      }
    }
    return undefined;
  }

  byId(id: string): Connection | undefined {
    return this.#byId.get(id);
  }

  /**
   * A connection to reuse for a new request: plain TCP and WS by remote address and port; TLS and
   * WSS only when `covers` says the connection satisfies the send's security requirement (the
   * connector's rule: opened under the same requirement and verified for the reference identity).
   */
  findReusable(transport: TransportProtocol, address: string, port: number, covers: (connection: Connection) => boolean): Connection | undefined {
    const set = this.#byRemote.get(remoteKey(transport, address, port));
    if (set === undefined) return undefined;
    for (const connection of set) {
      if (connection.closed) continue;
      if (!isSecureTransport(transport) || covers(connection)) return connection;
    }
    return undefined;
  }

  all(): Connection[] {
    return [...this.#byId.values()];
  }
}

function remoteKey(transport: TransportProtocol, address: string, port: number): string {
  return `${transport}|${address}|${port}`;
}

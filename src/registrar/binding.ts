import type { TransportProtocol } from '../transport/transport-context.js';

/**
 * One registered contact of an address-of-record (RFC 3261 section 10, RFC 5626 section 6):
 * plain data, so that every location backend stores it as JSON.
 */
export interface Binding {
  /** The canonical address-of-record, `user@domain` (aorOf). */
  readonly aor: string;
  /** The Contact URI as received; requests to the user go to it (or over its flow). */
  readonly contact: string;
  /** Contact header parameters other than expires and q (+sip.instance, feature tags), as written (RFC 5626 section 6: stored all). */
  readonly params: readonly ContactParam[];
  /** q-value 0 to 1 (RFC 3261 section 20.10); undefined when the Contact had none. */
  readonly q: number | undefined;
  /** When the binding lapses (ms since the epoch). */
  readonly expiresAtMs: number;
  /** Call-ID and CSeq of the REGISTER that last wrote it: the ordering rule of section 10.3 step 7. */
  readonly callId: string;
  readonly cseq: number;
  /** Where the REGISTER came from, as the transport saw it. */
  readonly receivedFrom: ReceivedFrom;
  /** The connection (flow) of a REGISTER over TCP, TLS, WS or WSS: requests to the user go over it (RFC 5626 flows, or the connection of the REGISTER as Kamailio's fix_nated_register). */
  readonly connectionId: string | undefined;
  /** RFC 5626 +sip.instance value, unquoted (e.g. `<urn:uuid:...>`). */
  readonly instanceId: string | undefined;
  /** RFC 5626 reg-id, when outbound processing applies to this binding (then instanceId is set too). */
  readonly regId: number | undefined;
  /** RFC 3327 Path values of the REGISTER, in order. */
  readonly path: readonly string[];
  readonly userAgent: string | undefined;
  /** When a REGISTER last added or refreshed it (ms since the epoch). */
  readonly updatedAtMs: number;
}

export interface ContactParam {
  readonly name: string;
  readonly value: string | null;
}

export interface ReceivedFrom {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  /** The local listener the REGISTER arrived on. */
  readonly localAddress: string;
  readonly localPort: number;
}

/** Bindings still in force at `nowMs`. */
export function liveBindings(bindings: readonly Binding[], nowMs: number): Binding[] {
  return bindings.filter((b) => b.expiresAtMs > nowMs);
}

/** Whole seconds left, rounded up so that a live binding never shows expires=0. */
export function secondsLeft(binding: Binding, nowMs: number): number {
  return Math.max(1, Math.ceil((binding.expiresAtMs - nowMs) / 1000));
}

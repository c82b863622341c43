/**
 * A RegisterHandler behind a real transaction layer, without sockets: each request is received as
 * the transport would hand it up (with a TransportContext), answered through a real server
 * transaction, and the response the layer sends is what the exchange resolves with.
 */
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { TransactionLayer } from '../transaction/transaction-layer.js';
import type { TransportContext, TransportProtocol } from '../transport/transport-context.js';
import type { RegistrarHandler } from './contracts.js';
import type { Exchange } from './register-client.test.support.js';

export interface HarnessSource {
  readonly transport: TransportProtocol;
  readonly remote: { readonly address: string; readonly port: number };
  readonly connectionId?: string;
}

export function contextFor(source: HarnessSource): TransportContext {
  return {
    transport: source.transport,
    local: { address: '127.0.0.2', port: source.transport === 'tls' || source.transport === 'wss' ? 5061 : 5060 },
    remote: source.remote,
    connectionId: source.transport === 'udp' ? undefined : (source.connectionId ?? 'conn-1'),
    peer: undefined,
    receivedAtMs: Date.now(),
  };
}

export class RegisterHarness {
  readonly layer: TransactionLayer;
  readonly #pending = new Map<string, (response: SipResponse) => void>();
  readonly #handled: Promise<void>[] = [];

  constructor(handler: RegistrarHandler) {
    this.layer = new TransactionLayer({
      send: (message: SipMessage) => {
        if (message.kind === 'response' && message.status >= 200) {
          const key = `${message.callId()} ${message.cseq().seq}`;
          this.#pending.get(key)?.(message);
          this.#pending.delete(key);
        }
        return Promise.resolve();
      },
      onRequest: (tx, request, context) => void this.#handled.push(handler.handleRegister(tx, request, context)),
    });
  }

  /** The exchange of one client source. */
  exchange(source: HarnessSource): Exchange {
    return (request: SipRequest) => {
      const answered = new Promise<SipResponse>((resolve) => this.#pending.set(`${request.callId()} ${request.cseq().seq}`, resolve));
      this.layer.receive(request, contextFor(source));
      return answered;
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#handled);
    await this.layer.close({ force: true });
  }
}

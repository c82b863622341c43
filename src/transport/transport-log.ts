import { boundedDetail } from '../sip/errors.js';
import type { Endpoint } from './transport-context.js';

/** One structured log event of the transport layer; `reason` uses the verdict vocabulary where one applies. */
export interface TransportLogEvent {
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: string;
  readonly connection?: string;
  readonly remote?: Endpoint;
  readonly reason?: string;
  /** What the reason word leaves out: the limit and its value, the error text. */
  readonly detail?: string;
}

export type TransportLog = (event: TransportLogEvent) => void;

/**
 * The default logger: warnings to stderr as one line each, the rest dropped. Every field may carry
 * a peer's bytes (error texts, names): each is escaped (no control character, quote or backslash
 * survives, so no forged field or line) and bounded by boundedDetail (src/sip/errors.ts).
 */
export const stderrTransportLog: TransportLog = (e) => {
  if (e.level !== 'warn') return;
  const remote = e.remote === undefined ? '' : ` remote=${boundedDetail(`${e.remote.address}:${e.remote.port}`)}`;
  process.stderr.write(`sipsec transport ${boundedDetail(e.event)}${e.connection === undefined ? '' : ` ${boundedDetail(e.connection)}`}${remote}${e.reason === undefined ? '' : ` reason="${boundedDetail(e.reason)}"`}${e.detail === undefined ? '' : ` detail="${boundedDetail(e.detail)}"`}\n`);
};

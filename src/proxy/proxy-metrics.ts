/**
 * The proxy's counters, in a prom-client registry of its own (not the library's global one, so
 * that two proxies in one process, as in the tests, count apart). The operations issue exports this
 * registry over HTTP; until then the totals are in the `proxy-stopped` log line and readable by
 * code (`ProxyMetrics.totals`). prom-client is the Prometheus client Node services use: its
 * counters are what an exporter needs, and writing them by hand would only copy it.
 */
import { Counter, Registry } from 'prom-client';

/** Why a message was dropped before any transaction saw it (the parser's or the framing's verdict). */
export type DroppedKind = 'request' | 'response';

export class ProxyMetrics {
  readonly registry = new Registry();
  /** Every final response the proxy made itself to refuse a request, by its vocabulary word. */
  readonly refusals = new Counter({
    name: 'sipsec_proxy_refusals_total',
    help: 'Requests the proxy answered itself with a final refusal, by the vocabulary word of its Warning',
    labelNames: ['word', 'status'] as const,
    registers: [this.registry],
  });
  /** Messages that did not parse: a request gets the parser's 400, a response is dropped (issue 13 item 9). */
  readonly malformed = new Counter({
    name: 'sipsec_proxy_malformed_messages_total',
    help: 'Messages that did not parse: requests were answered with 400, responses dropped',
    labelNames: ['kind', 'fault'] as const,
    registers: [this.registry],
  });
  /** Events of the hop policies that refuse nothing (an alias refused, a reverse-DNS state logged). */
  readonly policyEvents = new Counter({
    name: 'sipsec_proxy_policy_events_total',
    help: 'Hop-policy events that are logged without refusing the request',
    labelNames: ['word'] as const,
    registers: [this.registry],
  });

  /** Every counter's non-zero values as `name{label=value,...}` to count, for logs and tests. */
  async totals(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      for (const value of metric.values) {
        if (value.value === 0) continue;
        const labels = Object.entries(value.labels).map(([k, v]) => `${k}=${String(v)}`).join(',');
        out[labels === '' ? metric.name : `${metric.name}{${labels}}`] = value.value;
      }
    }
    return out;
  }
}

import type { Binding } from '../registrar/binding.js';
import { silentProxyLogger, type ProxyLogger, type ProxyLogLevel } from './proxy-log.js';

/**
 * How the registrar side of the proxy reports: the proxy's one logger shape (an event word and
 * plain fields), under the names the registrar modules use.
 */
export type RegistrationLogLevel = ProxyLogLevel;

export type RegistrationLogger = ProxyLogger;

/** The default: silent unless the process gives a logger. */
export const silentRegistrationLogger: RegistrationLogger = silentProxyLogger;

/** The fields a log line names a binding by: where it points, where it came from, its flow. */
export function bindingFields(binding: Binding, nowMs: number): Record<string, unknown> {
  const r = binding.receivedFrom;
  return {
    aor: binding.aor,
    contact: binding.contact,
    expiresS: Math.max(0, Math.ceil((binding.expiresAtMs - nowMs) / 1000)),
    transport: r.transport,
    remote: `${r.address}:${r.port}`,
    local: `${r.localAddress}:${r.localPort}`,
    connection: binding.connectionId,
    instance: binding.instanceId,
    regId: binding.regId,
    userAgent: binding.userAgent,
  };
}

import type { Binding } from '../registrar/binding.js';

/**
 * How the registrar side of the proxy reports: an event word and plain fields, so that the process
 * hands them to pino (or any structured logger) and tests record them; nothing here writes to the
 * console. The same shape as the proxy core's logger, so one function serves both.
 */
export type RegistrationLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type RegistrationLogger = (level: RegistrationLogLevel, event: string, fields: Readonly<Record<string, unknown>>) => void;

/** The default: silent unless the process gives a logger. */
export const silentRegistrationLogger: RegistrationLogger = () => undefined;

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

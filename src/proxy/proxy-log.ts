/**
 * What the proxy core reports: an event word and plain fields, so that the process can hand them
 * to pino (or any structured logger) and tests can record them. src/proxy writes nothing itself.
 */
export type ProxyLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ProxyLogger = (level: ProxyLogLevel, event: string, fields: Readonly<Record<string, unknown>>) => void;

/** The default: the core says nothing unless the process gives it a logger. */
export const silentProxyLogger: ProxyLogger = () => undefined;

/**
 * The proxy's log: one event per line through pino, JSON by default (for collectors), or a short
 * text line for a person at a terminal. Every line has an `event` word (bounded, a vocabulary or
 * log word, never free text) and fields; free text goes in fields only, escaped by JSON or by
 * terminalSafe, so that a peer's bytes never forge a line.
 */
import { pino, type Logger } from 'pino';
import { terminalSafe } from '../terminal-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';

/** What every part of the proxy logs through: an event word and its fields. */
export interface ProxyLog {
  debug(event: string, fields?: Readonly<Record<string, unknown>>): void;
  info(event: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields?: Readonly<Record<string, unknown>>): void;
  error(event: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Where lines go: stdout by default; tests pass a collector. */
export interface LogSink {
  write(line: string): void;
}

export interface ProxyLogOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  readonly sink?: LogSink;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function createProxyLog(options: ProxyLogOptions = {}): ProxyLog {
  const sink = options.sink ?? { write: (line: string) => void process.stdout.write(line) };
  const destination = options.format === 'text' ? { write: (line: string) => sink.write(textLine(line)) } : sink;
  const logger: Logger = pino({
    level: options.level ?? 'info',
    base: undefined,
    messageKey: 'event',
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
  const at = (level: LogLevel) => (event: string, fields?: Readonly<Record<string, unknown>>): void => {
    if (fields === undefined) logger[level](event);
    else logger[level]({ ...fields }, event);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A JSON line as `time LEVEL event key=value ...`, every value made safe for a terminal. */
function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, event, ...fields } = record;
  const when = typeof time === 'string' ? time.slice(11, 23) : '';
  const parts = Object.entries(fields).map(([key, value]) => `${key}=${textValue(value)}`);
  return `${when} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${textValue(event)}${parts.length > 0 ? ` ${parts.join(' ')}` : ''}\n`;
}

/** A plain word as it is; anything with spaces, quotes or control characters quoted and escaped by JSON. */
function textValue(value: unknown): string {
  if (typeof value === 'string' && /^[\x21-\x7e]*$/.test(value) && !value.includes('"')) return value;
  return terminalSafe(JSON.stringify(value) ?? String(value));
}

/** A log that keeps nothing: for library users and tests that do not look. */
export const SILENT_LOG: ProxyLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The shape the core, the registrar and the authorizer log through: level, event word, fields. */
export type ProxyLogLevel = LogLevel;

export type ProxyLogger = (level: ProxyLogLevel, event: string, fields: Readonly<Record<string, unknown>>) => void;

/** The default: the core says nothing unless the process gives it a logger. */
export const silentProxyLogger: ProxyLogger = () => undefined;

/** A ProxyLog as a ProxyLogger, for the parts that take the function form. */
export function loggerOf(log: ProxyLog): ProxyLogger {
  return (level, event, fields) => log[level](event, fields);
}

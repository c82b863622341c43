import { HeaderScanner, paramValue, unquote, type HeaderParam } from './header-scanner.js';

/** Warning value (RFC 3261 section 20.43): code 3DIGIT, agent, quoted text. */
export interface Warning {
  readonly code: number;
  readonly agent: string;
  readonly text: string;
}

export function parseWarning(value: string): Warning {
  const s = new HeaderScanner(value, 'warning');
  const m = /^[ \t]*(\d{3})[ \t]+/.exec(value);
  if (m === null) return s.fail('a warning starts with a 3-digit code');
  s.pos = m[0].length;
  const start = s.pos;
  // warn-agent = hostport / pseudonym: everything up to the white space before the quoted text.
  while (!s.atEnd() && s.peek() !== 32 && s.peek() !== 9) s.pos++;
  const agent = value.slice(start, s.pos);
  if (agent.length === 0) s.fail('missing warn-agent');
  const text = unquote(s.quotedString());
  s.end('the warning text');
  return { code: Number(m[1]), agent, text };
}

/** Reason value (RFC 3326): protocol, cause, text, other parameters. */
export interface Reason {
  readonly protocol: string;
  readonly cause: number | undefined;
  readonly text: string | undefined;
  readonly params: readonly HeaderParam[];
}

export function parseReason(value: string): Reason {
  const s = new HeaderScanner(value, 'reason');
  const protocol = s.token('the reason protocol');
  const params = s.params();
  s.end('the reason parameters');
  const cause = paramValue(params, 'cause');
  if (cause !== undefined && (cause === null || !/^\d{1,10}$/.test(cause))) s.fail('cause must be a number');
  const text = paramValue(params, 'text');
  return {
    protocol,
    cause: cause === undefined ? undefined : Number(cause),
    text: text === undefined || text === null ? undefined : unquote(text),
    params,
  };
}

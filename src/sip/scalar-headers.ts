import { isIn, isToken, isWhitespace, TOKEN, trimLws } from './charsets.js';
import { codesOf } from './char-codes.js';
import { SipParseError } from './errors.js';
import { HeaderScanner } from './header-scanner.js';

/** CSeq (RFC 3261 section 20.16): sequence number below 2**31 is what a UAC sends, 2**32-1 the limit. */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

const MAX_UINT32 = 0xffff_ffff;

/** Parses 1*DIGIT with an upper bound, failing with SIP_ERR_VALUE_OUT_OF_RANGE beyond it. */
export function parseBoundedInt(text: string, max: number, header: string): number {
  // Up to nine digits without a leading zero (or a lone 0): the form every message uses, read
  // without regular expressions; nine digits cannot overflow.
  const n = text.length;
  if (n > 0 && n <= 9 && (text.charCodeAt(0) !== 48 || n === 1)) {
    let value = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
    }
    if (i === n) {
      if (value > max) throw new SipParseError('SIP_ERR_VALUE_OUT_OF_RANGE', `${text} exceeds ${max}`, header);
      return value;
    }
  }
  return parseBoundedIntByGrammar(text, max, header);
}

/** parseBoundedInt for any text: white space around, leading zeros, long digit runs. */
export function parseBoundedIntByGrammar(text: string, max: number, header: string): number {
  const digits = trimLws(text);
  if (!/^\d+$/.test(digits)) throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${digits}' is not a number`, header);
  // Leading zeros are legal (RFC 4475 section 3.1.1.1); compare without them so that length works as a bound.
  const significant = digits.replace(/^0+(?=\d)/, '');
  if (significant.length > 10 || Number(significant) > max) {
    throw new SipParseError('SIP_ERR_VALUE_OUT_OF_RANGE', `${significant} exceeds ${max}`, header);
  }
  return Number(significant);
}

export function parseCSeq(text: string): CSeq {
  const codes = codesOf(text);
  return (codes === undefined ? undefined : parsePlainCSeq(text, codes, 0)) ?? parseCSeqByGrammar(text);
}

/** parseCSeq where text[i] is codes[at + i] (char-codes.ts), without encoding the text again. */
export function parseCSeqAt(text: string, codes: Uint8Array, at: number): CSeq {
  return parsePlainCSeq(text, codes, at) ?? parseCSeqByGrammar(text);
}

/** Any CSeq the grammar allows: LWS, leading zeros, extension methods; the fast paths agree with it. */
export function parseCSeqByGrammar(text: string): CSeq {
  const s = new HeaderScanner(text, 'cseq');
  s.skipWs();
  const start = s.pos;
  while (s.peek() >= 48 && s.peek() <= 57) s.pos++;
  if (s.pos === start) s.fail('CSeq must start with a sequence number');
  const seq = parseBoundedInt(text.slice(start, s.pos), MAX_UINT32, 'cseq');
  if (!/^[ \t]/.test(text.slice(s.pos, s.pos + 1))) s.fail('expected white space before the CSeq method');
  const method = s.token('the CSeq method');
  s.end('the CSeq method');
  return { seq, method };
}

/**
 * The form every CSeq takes, `([1-9][0-9]{0,8} / "0") SP 1*UPALPHA`, read by hand from codes
 * (`codes[at + i]` is text[i]): what the grammar gives for it, or undefined when the text is not
 * that form. Nine digits stay below 2**32: no range check. (A regular expression for the same
 * form once sat between this and the grammar; it accepted nothing this declines.)
 */
export function parsePlainCSeq(text: string, codes: Uint8Array, at: number): CSeq | undefined {
  // Positions below are indexes into codes; text indexes are `position - at`.
  let c = codes[at] as number;
  let seq = 0;
  let i = at;
  if (c === 48) {
    i++;
  } else {
    while (c >= 48 && c <= 57 && i - at < 9) {
      seq = seq * 10 + (c - 48);
      c = codes[++i] as number;
    }
    if (i === at) return undefined;
  }
  if (codes[i] !== 32) return undefined;
  const methodStart = ++i;
  const stop = at + text.length;
  c = codes[i] as number;
  while (c >= 65 && c <= 90 && i < stop) c = codes[++i] as number;
  if (i === methodStart || i !== stop) return undefined;
  return { seq, method: text.slice(methodStart - at) };
}

/** Max-Forwards: 0 to 255 (RFC 3261 section 20.22). */
export function parseMaxForwards(text: string): number {
  return parseBoundedInt(text, 255, 'max-forwards');
}

/** Content-Length (section 20.14); larger than any message we accept, but not a framing lie. */
export function parseContentLength(text: string): number {
  try {
    return parseBoundedInt(text, MAX_UINT32, 'content-length');
  } catch (err) {
    if (err instanceof SipParseError) throw new SipParseError('SIP_ERR_BAD_CONTENT_LENGTH', err.detail, 'content-length');
    throw err;
  }
}

/** Expires and other delta-seconds values: 0 to 2**32-1 (section 20.19). */
export function parseDeltaSeconds(text: string, header: string): number {
  return parseBoundedInt(text, MAX_UINT32, header);
}

/** Call-ID = word [ "@" word ] (section 20.8); word excludes white space and a few separators. */
export function parseCallId(text: string): string {
  const codes = codesOf(text);
  if (codes !== undefined && isPlainCallId(codes, 0, text.length)) return text;
  return parseCallIdByGrammar(text);
}

/** parseCallId where text[i] is codes[at + i] (char-codes.ts), without encoding the text again. */
export function parseCallIdAt(text: string, codes: Uint8Array, at: number): string {
  if (isPlainCallId(codes, at, text.length)) return text;
  return parseCallIdByGrammar(text);
}

/** Any Call-ID, white space around it included; isPlainCallId's fast path agrees with it. */
export function parseCallIdByGrammar(text: string): string {
  const value = trimLws(text);
  if (!/^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/.test(value)) {
    throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${value}' is not a Call-ID`, 'call-id');
  }
  return value;
}

/** The characters of a Call-ID word (RFC 3261 section 25.1). */
const WORD = new Uint8Array(256);
for (const ch of "-.!%*_+`'~()<>:\\\"/[]?{}") WORD[ch.charCodeAt(0)] = 1;
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9]/.test(String.fromCharCode(c))) WORD[c] = 1;

/**
 * word [ "@" word ] with nothing around it, read from codes[at, at + n): what parseCallId's
 * expression accepts untrimmed.
 */
export function isPlainCallId(codes: Uint8Array, at: number, n: number): boolean {
  // A local, not the imported binding: read on every character.
  const word = WORD;
  const stop = at + n;
  let sign = -1;
  for (let i = at; i < stop; i++) {
    const c = codes[i] as number;
    if (c === 64 /* @ */ && sign < 0 && i > at) sign = i;
    else if (word[c] !== 1) return false;
  }
  return n > 0 && sign !== stop - 1;
}

/** A comma-separated list of option tags (Require, Proxy-Require, Supported, Unsupported). */
export function parseOptionTags(values: readonly string[], header: string): string[] {
  const tags: string[] = [];
  for (const value of values) {
    // Supported may be empty (section 20.37); an empty element anywhere else is malformed.
    if (value === '' && header === 'supported' && values.length === 1) continue;
    if (!isToken(value)) throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${value}' is not an option tag`, header);
    tags.push(value);
  }
  return tags;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Date (section 20.17): rfc1123-date, and only in GMT. */
export function parseDate(text: string): Date {
  const m = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(trimLws(text));
  const month = m === null ? -1 : MONTHS.indexOf(m[3] ?? '');
  if (m === null || month < 0) {
    throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${trimLws(text)}' is not an RFC 1123 date in GMT`, 'date');
  }
  return new Date(Date.UTC(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])));
}

/**
 * Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 section 20.33), LWS
 * between the parts; a comment runs to its first ')' and a parameter value to the next ';'. A scan:
 * the expression this replaces had adjacent optional white space runs, which backtrack
 * quadratically on a long run of white space (issue 12).
 */
export function parseRetryAfter(text: string): number {
  const n = text.length;
  const bad = (): never => {
    throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${trimLws(text)}' is not a Retry-After value`, 'retry-after');
  };
  let i = skipLws(text, 0);
  const start = i;
  while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === start) bad();
  const digits = text.slice(start, i);
  i = skipLws(text, i);
  if (text.charCodeAt(i) === 40 /* ( */) {
    const close = text.indexOf(')', i);
    if (close < 0) bad();
    i = skipLws(text, close + 1);
  }
  while (i < n) {
    if (text.charCodeAt(i) !== 59 /* ; */) bad();
    i = skipLws(text, i + 1);
    const nameStart = i;
    while (isIn(TOKEN, text.charCodeAt(i))) i++;
    if (i === nameStart) bad();
    i = skipLws(text, i);
    if (text.charCodeAt(i) === 61 /* = */) {
      const semi = text.indexOf(';', i + 1);
      const valueEnd = semi < 0 ? n : semi;
      if (valueEnd === i + 1) bad();
      i = valueEnd;
    }
  }
  return parseDeltaSeconds(digits, 'retry-after');
}

/** The index of the first character at or after `from` that is not SP or HTAB. */
function skipLws(text: string, from: number): number {
  let i = from;
  while (isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Character classes of the RFC 3261 section 25.1 grammar as lookup tables over char codes, so that
 * the hot paths classify a character with one array read. 256 entries, the upper half 0: a fast
 * path reading bytes (char-codes.ts) indexes a table with any byte and needs no range check.
 */
function table(chars: string, ranges: ReadonlyArray<readonly [string, string]> = []): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  for (const [from, to] of ranges) {
    for (let i = from.charCodeAt(0); i <= to.charCodeAt(0); i++) t[i] = 1;
  }
  return t;
}

const ALNUM: ReadonlyArray<readonly [string, string]> = [['a', 'z'], ['A', 'Z'], ['0', '9']];
const MARK = "-_.!~*'()";

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", ALNUM);
/** unreserved = alphanum / mark */
export const UNRESERVED = table(MARK, ALNUM);
/** user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? / */
export const USER = table(`${MARK}&=+$,;?/`, ALNUM);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(`${MARK}&=+$,`, ALNUM);
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $ */
export const PARAM = table(`${MARK}[]/:&+$`, ALNUM);
/** hname/hvalue chars: hnv-unreserved / unreserved / escaped; hnv-unreserved = [ ] / ? : + $ */
export const HNV = table(`${MARK}[]/?:+$`, ALNUM);
/** URI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 section 3.1) */
export const SCHEME = table('+-.', ALNUM);
/** Characters of an absoluteURI body other than escapes (RFC 3261 section 25.1, uric). */
export const URIC = table(`${MARK};/?:@&=+$,[]`, ALNUM);

export function isIn(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

export function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** True when every character is in the table or is a well-formed %HH escape. */
export function isEscapedRun(text: string, t: Uint8Array, allowEmpty = false): boolean {
  if (text.length === 0) return allowEmpty;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */) {
      if (!isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (!isIn(t, c)) {
      return false;
    }
  }
  return true;
}

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    if (!isIn(TOKEN, text.charCodeAt(i))) return false;
  }
  return true;
}

export function isWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * text without the SP and HTAB at its ends: the only white space of SIP (RFC 3261 section 25.1,
 * LWS and SWS). String.prototype.trim also strips NBSP (0xA0), VT, FF and Unicode spaces, which a
 * header reader must not take as white space: the parse would then accept a value that the readers
 * without trim reject, and forward it as received (issue 12).
 */
export function trimLws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

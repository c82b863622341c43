import { TOKEN, isIn, isWhitespace, trimLws } from './charsets.js';
import { SipParseError } from './errors.js';

/** A `;name[=value]` header parameter; the value as written (a quoted string keeps its quotes). */
export interface HeaderParam {
  readonly name: string;
  readonly value: string | null;
}

/** The value of a header parameter by case-insensitive name: undefined absent, null without value. */
export function paramValue(params: readonly HeaderParam[], name: string): string | null | undefined {
  // Names are nearly always written as asked for (branch, tag): try that before lower-casing.
  for (const p of params) if (p.name === name) return p.value;
  const wanted = name.toLowerCase();
  for (const p of params) {
    if (p.name.length === wanted.length && p.name.toLowerCase() === wanted) return p.value;
  }
  return undefined;
}

export function serializeHeaderParams(params: readonly HeaderParam[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/**
 * A cursor over one unfolded header value. Whitespace around separators is optional everywhere
 * (RFC 3261 section 25.1: SEMI, COLON, EQUAL, SLASH, COMMA all allow SWS on both sides), so
 * callers skip it explicitly at each separator.
 */
export class HeaderScanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly header: string,
  ) {}

  fail(detail: string): never {
    throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', detail, this.header);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  skipWs(): void {
    while (isWhitespace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Consumes `ch` (after optional whitespace) when present. */
  accept(ch: string): boolean {
    this.skipWs();
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(ch: string, what: string): void {
    if (!this.accept(ch)) this.fail(`expected '${ch}' ${what}`);
  }

  token(what: string): string {
    this.skipWs();
    const start = this.pos;
    while (isIn(TOKEN, this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string, returned with its quotes; quoted-pairs are kept escaped. */
  quotedString(): string {
    this.skipWs();
    const start = this.pos;
    if (this.text.charCodeAt(this.pos) !== 34) this.fail('expected a quoted string');
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 92 /* \ */) {
        const next = this.text.charCodeAt(this.pos + 1);
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (Number.isNaN(next) || next === 10 || next === 13 || next > 127) this.fail('bad escape in quoted string');
        this.pos += 2;
      } else if (c === 34) {
        this.pos++;
        return this.text.slice(start, this.pos);
      } else if (c === 13 || c === 10) {
        this.fail('line break in quoted string');
      } else {
        this.pos++;
      }
    }
    return this.fail('unterminated quoted string');
  }

  /** gen-value = token / host / quoted-string; hosts include [IPv6] references. */
  genericValue(what: string): string {
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 34) return this.quotedString();
    const start = this.pos;
    if (this.text.charCodeAt(this.pos) === 91 /* [ */) {
      const close = this.text.indexOf(']', this.pos);
      if (close < 0) this.fail(`unterminated IPv6 reference in ${what}`);
      this.pos = close + 1;
      return this.text.slice(start, this.pos);
    }
    // Tokens plus ':' so that an unbracketed IPv6 received= (RFC 5118 section 4.5) reads whole.
    while (isIn(TOKEN, this.text.charCodeAt(this.pos)) || this.text.charCodeAt(this.pos) === 58) this.pos++;
    if (this.pos === start) this.fail(`expected a value for ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** *( SEMI generic-param ), stopping at a comma or the end. */
  params(): HeaderParam[] {
    const params: HeaderParam[] = [];
    while (this.accept(';')) {
      const name = this.token('a parameter name after ;');
      const value = this.accept('=') ? this.genericValue(name) : null;
      params.push({ name, value });
    }
    return params;
  }

  /** Fails unless only whitespace remains. */
  end(what: string): void {
    this.skipWs();
    if (!this.atEnd()) this.fail(`unexpected '${this.text.slice(this.pos, this.pos + 12)}' after ${what}`);
  }
}

/**
 * Reads text[from, end) as `*( ";" token [ "=" token-or-colons ] )` with no white space, quoting
 * or [IPv6] value, how almost every message writes parameters, giving what HeaderScanner.params
 * gives; undefined when the text is anything else, so that the caller takes its general path.
 * With `quoted`, a value may also be a quoted-string without escapes (Contact's +sip.instance),
 * given as HeaderScanner.params gives it.
 * Reads characters from codes (`codes[at + i]` is text[i], see char-codes.ts): this runs for
 * every Via, From, To, Contact and Route.
 */
export function scanSimpleParams(text: string, codes: Uint8Array, at: number, from: number, end: number, quoted = false): readonly HeaderParam[] | undefined {
  // A local, not the imported binding: read on every character.
  const token = TOKEN;
  // Allocated with its first parameter: most lists hold one or two.
  let params: HeaderParam[] | undefined;
  // Positions below are indexes into codes; text indexes are `position - at`.
  let i = at + from;
  const stop = at + end;
  while (i < stop) {
    if (codes[i] !== 59 /* ; */) return undefined;
    const nameStart = ++i;
    let c = codes[i] as number;
    while (token[c] === 1) c = codes[++i] as number;
    if (i === nameStart || i > stop) return undefined;
    const name = text.slice(nameStart - at, i - at);
    let value: string | null = null;
    if (i < stop && c === 61 /* = */) {
      const valueStart = ++i;
      c = codes[i] as number;
      if (quoted && c === 34 /* " */) {
        // A quoted value without escapes, kept with its quotes as HeaderScanner.quotedString keeps it.
        const close = text.indexOf('"', i + 1 - at) + at;
        if (close < at || close >= stop) return undefined;
        for (let j = i + 1; j < close; j++) {
          const q = codes[j];
          if (q === 92 || q === 13 || q === 10) return undefined;
        }
        i = close + 1;
      } else {
        while (token[c] === 1 || c === 58) c = codes[++i] as number;
        if (i === valueStart || i > stop) return undefined;
      }
      value = text.slice(valueStart - at, i - at);
    }
    if (params === undefined) params = [{ name, value }];
    else params[params.length] = { name, value };
  }
  return params ?? NO_PARAMS;
}

/** The parameter list of a value without parameters, shared. */
const NO_PARAMS: readonly HeaderParam[] = Object.freeze([]);

/** Removes the quotes and quoted-pair escapes of a quoted-string. */
export function unquote(quoted: string): string {
  if (quoted.length < 2 || !quoted.startsWith('"')) return quoted;
  return quoted.slice(1, -1).replace(/\\(.)/gs, '$1');
}

/** Quotes a string for a header, escaping `"` and `\`. */
export function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Where the element of a comma-separated header value that starts at `from` ends: the index of the
 * next comma outside quoted strings and angle brackets, or the value's length. The one scan behind
 * splitHeaderValues and the lazy top Via, so that both split alike.
 */
export function valueEnd(value: string, from = 0): number {
  let inQuotes = false;
  let inAngle = false;
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 92) i++;
      else if (c === 34) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60 /* < */) {
      inAngle = true;
    } else if (c === 62 /* > */) {
      inAngle = false;
    } else if (c === 44 /* , */ && !inAngle) {
      return i;
    }
  }
  return value.length;
}

/**
 * Splits a comma-separated header value into its elements. Commas inside quoted strings and
 * angle brackets do not separate (RFC 3261 section 7.3.1). Empty elements are kept so that the
 * caller can reject them (RFC 4475 section 3.1.2.1, ';;,;,,').
 */
export function splitHeaderValues(value: string, maxValues: number, header: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let end = valueEnd(value); end < value.length; end = valueEnd(value, start)) {
    out[out.length] = trimLws(value.slice(start, end));
    start = end + 1;
    if (out.length >= maxValues) throw new SipParseError('SIP_ERR_TOO_MANY_VALUES', `more than ${maxValues} values`, header);
  }
  out.push(trimLws(value.slice(start)));
  return out;
}

import { TOKEN, trimLws } from './charsets.js';
import { HeaderScanner, paramValue, quote, scanSimpleParams, serializeHeaderParams, unquote, type HeaderParam } from './header-scanner.js';
import { SipParseError } from './errors.js';
import { parsePlainSipUri, parseUri, type Uri } from './uri.js';
import { codesOf } from './char-codes.js';

/**
 * The value of From, To, Contact, Route, Record-Route (RFC 3261 section 20): an optional display
 * name, a URI, and header parameters (tag, expires, q, lr ...).
 */
export interface NameAddr {
  /** Unquoted display name, or undefined when there is none. */
  readonly displayName: string | undefined;
  readonly uri: Uri;
  /** True when the URI was written in angle brackets (name-addr rather than addr-spec). */
  readonly bracketed: boolean;
  readonly params: readonly HeaderParam[];
}

/** A Contact value: a name-addr or the `*` of a REGISTER that removes every binding. */
export type ContactValue = NameAddr | { readonly star: true };

export function tagOf(value: NameAddr): string | undefined {
  const tag = paramValue(value.params, 'tag');
  return tag === null ? undefined : tag;
}

/**
 * The tag parameter of a From or To value without parsing the URI: what a transaction needs on
 * every message. Agrees with tagOf(parseNameAddr(text)) on every valid value. `codes`, when given,
 * holds text's characters from `at` (char-codes.ts); text that is not ASCII is parsed whole.
 */
export function extractTag(text: string, header: string, codes?: Uint8Array, at = 0): string | undefined {
  let bytes = codes;
  let offset = at;
  if (bytes === undefined) {
    // Latin-1 text (a message whose header bytes are not UTF-8) is scanned as the parser scanned
    // its bytes: a full name-addr parse instead would reject what the parse accepted (issue 12).
    bytes = codesOf(text) ?? latin1Codes(text);
    offset = 0;
    if (bytes === undefined) return tagOf(parseNameAddr(text, header));
  }
  // Skip a quoted display name, then the <URI> if there is one; parameters follow.
  const stop = offset + text.length;
  let params = -1;
  let inQuotes = false;
  for (let i = offset; i < stop; i++) {
    const c = bytes[i];
    if (inQuotes) {
      if (c === 92) i++;
      else if (c === 34) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60 /* < */) {
      const close = text.indexOf('>', i - offset);
      if (close < 0) throw new SipParseError('SIP_ERR_BAD_HEADER_VALUE', 'unterminated <URI>', header);
      // A To without a tag ends with its '>': no parameters to look for.
      params = close === text.length - 1 ? -1 : text.indexOf(';', close);
      break;
    } else if (c === 59 /* ; */) {
      params = i - offset;
      break;
    }
  }
  if (params < 0) return undefined;
  // Simple parameters (nearly always) are read in one pass; anything else by the scanner.
  const simple = scanSimpleParams(text, bytes, offset, params, text.length);
  if (simple !== undefined) {
    const tag = paramValue(simple, 'tag');
    return tag === null ? undefined : tag;
  }
  const s = new HeaderScanner(text, header);
  s.pos = params;
  const value = paramValue(s.params(), 'tag');
  return value === null ? undefined : value;
}

/** The codes of text when every character is below 256 (char-codes.ts), else undefined. */
function latin1Codes(text: string): Uint8Array | undefined {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 255) return undefined;
  return Buffer.from(text, 'latin1');
}

/**
 * Parses one name-addr or addr-spec with its parameters. Without angle brackets the URI ends at
 * the first ';' (which starts header parameters) and may contain no ',', '?' or ';' of its own
 * (RFC 3261 section 20.10).
 */
export function parseNameAddr(text: string, header: string): NameAddr {
  const codes = codesOf(text);
  return (codes === undefined ? undefined : parsePlainNameAddr(text, codes, 0)) ?? parseNameAddrByGrammar(text, header);
}

/** parseNameAddr where text[i] is codes[at + i] (char-codes.ts), without encoding the text again. */
export function parseNameAddrAt(text: string, header: string, codes: Uint8Array, at: number): NameAddr {
  return parsePlainNameAddr(text, codes, at) ?? parseNameAddrByGrammar(text, header);
}

/**
 * The forms nearly every From, To, Contact and Route takes, read by hand from codes
 * (`codes[at + i]` is text[i]): `<uri>;p`, `"Quoted" <uri>;p` (no escapes) and
 * `Token Words <uri>;p`, with a plain sip or sips URI inside the brackets and simple parameters
 * or quoted values without escapes. Gives what the grammar gives, or undefined to leave the text
 * to it. (A regular expression between the two once took the addr-spec form and other URIs too;
 * no message of the parse benchmark reached it.)
 */
export function parsePlainNameAddr(text: string, codes: Uint8Array, at: number): NameAddr | undefined {
  // A local, not the imported binding: read on every character.
  const token = TOKEN;
  // Positions below are indexes into codes; text indexes are `position - at`.
  let i = at;
  let c = codes[i] as number;
  let displayName: string | undefined;
  if (c === 34 /* " */) {
    const close = text.indexOf('"', 1) + at;
    if (close < at) return undefined;
    for (let j = at + 1; j < close; j++) {
      const q = codes[j];
      if (q === 92 || q === 13 || q === 10) return undefined;
    }
    displayName = text.slice(1, close - at);
    i = close + 1;
    if (codes[i] === 32) i++;
    c = codes[i] as number;
  } else if (c !== 60 /* < */) {
    // Token words, each followed by one space; the last space is the one before '<'.
    for (;;) {
      const wordStart = i;
      while (token[c] === 1) c = codes[++i] as number;
      if (i === wordStart || c !== 32) return undefined;
      c = codes[++i] as number;
      if (c === 60) break;
    }
    displayName = text.slice(0, i - 1 - at);
  }
  if (c !== 60) return undefined;
  const uriStart = i + 1 - at;
  const close = text.indexOf('>', uriStart);
  if (close <= uriStart) return undefined;
  // A plain sip URI has no white space or '<', so it is what the grammar would take
  // between the brackets; any other URI goes the general way, with its characters checked there.
  const uri = parsePlainSipUri(text, codes, at, uriStart, close);
  if (uri === undefined) return undefined;
  const params = scanSimpleParams(text, codes, at, close + 1, text.length, true);
  if (params === undefined) return undefined;
  return { displayName, uri, bracketed: true, params };
}

function parseUriIn(uriText: string, header: string): Uri {
  try {
    return parseUri(uriText);
  } catch (err) {
    if (err instanceof SipParseError) throw new SipParseError('SIP_ERR_BAD_URI', err.detail, header);
    throw err;
  }
}

/** Any name-addr or addr-spec the grammar allows (LWS anywhere, quoted parameter values). */
export function parseNameAddrByGrammar(text: string, header: string): NameAddr {
  const s = new HeaderScanner(text, header);
  s.skipWs();
  let displayName: string | undefined;
  let uriText: string;
  let bracketed = false;
  const c = s.peek();
  if (c === 34 /* " */) {
    displayName = unquote(s.quotedString());
    s.skipWs();
    if (s.peek() !== 60) s.fail('expected <URI> after the display name');
  } else if (c !== 60) {
    // Either an addr-spec, or an unquoted display name (tokens separated by LWS) before '<'.
    const lt = text.indexOf('<', s.pos);
    if (lt >= 0) {
      const words = trimLws(text.slice(s.pos, lt));
      if (words.length > 0) {
        for (const word of words.split(/[ \t]+/)) {
          if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(word)) s.fail(`'${word}' is not a token: quote the display name`);
        }
        displayName = words;
      }
      s.pos = lt;
    }
  }
  if (s.peek() === 60 /* < */) {
    const close = text.indexOf('>', s.pos);
    if (close < 0) s.fail('unterminated <URI>');
    uriText = text.slice(s.pos + 1, close);
    if (/[ \t]/.test(uriText)) s.fail('white space inside <URI>');
    s.pos = close + 1;
    bracketed = true;
  } else {
    const start = s.pos;
    while (!s.atEnd() && s.peek() !== 59 /* ; */ && s.peek() !== 32 && s.peek() !== 9) s.pos++;
    uriText = text.slice(start, s.pos);
    if (uriText.includes('?') || uriText.includes(',')) {
      s.fail('a URI with headers or commas must be enclosed in <>');
    }
  }
  const uri = parseUriIn(uriText, header);
  const params = s.params();
  s.end('the URI and its parameters');
  return { displayName, uri, bracketed, params };
}

export function parseContact(text: string, header: string): ContactValue {
  if (trimLws(text) === '*') return { star: true };
  return parseNameAddr(text, header);
}

/** parseContact where text[i] is codes[at + i] (char-codes.ts). */
export function parseContactAt(text: string, header: string, codes: Uint8Array, at: number): ContactValue {
  if (trimLws(text) === '*') return { star: true };
  return parseNameAddrAt(text, header, codes, at);
}

export function serializeNameAddr(value: NameAddr): string {
  const uri = value.uri.toString();
  const display = value.displayName === undefined ? '' : `${quote(value.displayName)} `;
  // A URI containing , ; or ? must be bracketed, so always bracket when writing anew.
  return `${display}<${uri}>${serializeHeaderParams(value.params)}`;
}

export function serializeContact(value: ContactValue): string {
  return 'star' in value ? '*' : serializeNameAddr(value);
}

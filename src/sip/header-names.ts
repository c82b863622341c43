import { TOKEN } from './charsets.js';

/**
 * Header names: compact forms (RFC 3261 section 7.3.3 and the extensions that define one) and
 * the canonical spelling used when sipsec writes a header itself.
 */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/**
 * The headers nearly every message carries, as sipsec writes them: the one list of header names.
 * From it come the spellings the name automaton below recognises (each name, its lower case, and
 * its compact form in both cases: interned, so that such a field allocates no name and its
 * key compares by pointer) and canonicalHeaderName's spelling of each key.
 */
const COMMON_HEADER_NAMES = ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type',
  'Route', 'Record-Route', 'Expires', 'User-Agent', 'Allow', 'Supported', 'Require', 'Accept', 'Authorization',
  'Proxy-Require', 'Proxy-Authorization', 'WWW-Authenticate', 'Proxy-Authenticate', 'Server', 'Date', 'Unsupported',
  'Warning', 'Reason', 'Event', 'Subject', 'MIME-Version'] as const;

/** How sipsec spells the keys of COMMON_HEADER_NAMES; canonicalHeaderName derives the others. */
const CANONICAL = new Map<string, string>(COMMON_HEADER_NAMES.map((name) => [name.toLowerCase(), name]));

/**
 * The same characters as an internalized string (V8's string table). Two internalized strings are
 * equal only when they are the same object, so comparing a field's key with a literal such as
 * 'cseq' costs one pointer comparison instead of a character loop: the header loops compare keys
 * on every message. A property name is internalized, which is how this makes one.
 */
function internalized(text: string): string {
  return Object.keys({ [text]: true })[0] ?? text;
}

/** A spelling of a common header as seen on the wire, and its key; shared, never mutated. */
export interface KnownHeaderName {
  readonly spelling: string;
  readonly key: string;
}

/** A known spelling with its tracked bit (HEADER_BIT, 0 for the others). */
export interface KnownSpelling extends KnownHeaderName {
  readonly bit: number;
}

/**
 * The headers the parser notes while splitting the header section (where the first is, whether
 * it repeats), so that no reader loops over the fields to find them: those RFC 3261 section 8.1.1
 * requires in every request, and Content-Length for framing. The one list: each one's bit
 * (HEADER_BIT), its position and the size of the per-parse record (TrackedFields) come from it.
 */
export const TRACKED_HEADERS = ['to', 'from', 'cseq', 'call-id', 'via', 'content-length', 'max-forwards'] as const;
export type TrackedHeader = (typeof TRACKED_HEADERS)[number];

/**
 * The bit of each key of `keys`, by position: `1 << i`. The bits of a message's headers are
 * combined in one small integer (a 31-bit Smi in V8, never negative, which the parser relies on),
 * so a list longer than 31 or with a key twice fails here, when the module loads, rather than as
 * a mis-framed message at run time.
 */
export function trackedHeaderBits<K extends string>(keys: readonly K[]): Readonly<Record<K, number>> {
  if (keys.length > MAX_TRACKED) throw new Error(`${keys.length} tracked headers; their bits fit ${MAX_TRACKED} at most`);
  if (new Set(keys).size !== keys.length) throw new Error(`a tracked header is listed twice: ${keys.join(', ')}`);
  const bits = {} as Record<K, number>;
  keys.forEach((key, i) => {
    if (key !== key.toLowerCase() || COMPACT_FORMS[key] !== undefined) throw new Error(`tracked header '${key}' is not a key (the lower-case long form)`);
    bits[key] = 1 << i;
  });
  return Object.freeze(bits);
}
const MAX_TRACKED = 31;

/** The bit of each tracked header, `1 << ` its position in TRACKED_HEADERS. */
export const HEADER_BIT: Readonly<Record<TrackedHeader, number>> = trackedHeaderBits(TRACKED_HEADERS);

const BIT_BY_KEY = new Map<string, number>(Object.entries(HEADER_BIT));

/** The position of a HEADER_BIT in TRACKED_HEADERS, for per-header arrays. */
export function bitPosition(bit: number): number {
  return 31 - Math.clz32(bit);
}

/** The HEADER_BIT of a key, 0 for the headers not tracked. */
export function headerBit(key: string): number {
  return BIT_BY_KEY.get(key) ?? 0;
}
/** Every spelling the name automaton recognises, from COMMON_HEADER_NAMES and their COMPACT_FORMS. */
function knownSpellings(): KnownSpelling[] {
  const spellings: KnownSpelling[] = [];
  const add = (spelling: string, key: string): void => {
    spellings.push({ spelling: internalized(spelling), key: internalized(key), bit: headerBit(key) });
  };
  for (const name of COMMON_HEADER_NAMES) {
    const key = name.toLowerCase();
    for (const spelling of new Set([name, key])) add(spelling, key);
  }
  // The compact forms of these names only: the others are rare, and each would add rows to the
  // table that has to stay in the CPU's caches (headerKeyByRule reads them).
  for (const [short, long] of Object.entries(COMPACT_FORMS)) {
    if (!CANONICAL.has(long)) continue;
    add(short, long);
    add(short.toUpperCase(), long);
  }
  return spellings;
}

/** Columns per state, 2 ** NAME_CLASS_BITS: a power of two, so that `s | k` is `s + k`. */
export const NAME_CLASS_BITS = 6;
export const NAME_CLASSES = 1 << NAME_CLASS_BITS;
export const NAME_START = NAME_CLASSES;
export const NAME_UNKNOWN = 0;
export const NAME_CLASS: Uint8Array = new Uint8Array(256);
export const NAME_ACCEPT: ReadonlyArray<KnownSpelling | undefined> = [];

/**
 * The known spellings as an automaton over bytes, for the splitter: it checks that a name is a
 * token and recognises it in one pass. A byte loop that first finds the name's end and then
 * compares it with the candidate spellings read every byte twice, and the comparison cost about
 * twice the scan (measured). A byte c falls in class NAME_CLASS[c]: 0 for a byte that is not a
 * token character, 1 for a token character no known spelling uses, one class for each character
 * that one does. A state is the offset of its row in NAME_STEP, so that the step to the next one,
 * which each byte waits for, is one OR and one read: from state s, class k leads to
 * `NAME_STEP[s | k]`, a positive state while the name so far starts a known spelling,
 * NAME_UNKNOWN for a token past that, -1 where the name ends. Start in NAME_START; where the name
 * ends, `NAME_ACCEPT[state >> NAME_CLASS_BITS]` is its spelling when it is a known one. Classes
 * rather than one column per byte keep the table at about 50 KiB instead of 200: it has to stay
 * in the CPU's caches between messages.
 */
export const NAME_STEP: Int16Array = buildNameAutomaton(knownSpellings(), NAME_ACCEPT as Array<KnownSpelling | undefined>);

function buildNameAutomaton(spellings: readonly KnownSpelling[], accept: Array<KnownSpelling | undefined>): Int16Array {
  let classes = 2;
  for (let c = 0; c < 128; c++) if (TOKEN[c] === 1) NAME_CLASS[c] = 1;
  for (const known of spellings) {
    for (let i = 0; i < known.spelling.length; i++) {
      const c = known.spelling.charCodeAt(i);
      if (NAME_CLASS[c] === 1) NAME_CLASS[c] = classes++;
    }
  }
  if (classes > NAME_CLASSES) throw new Error('too many characters in the known header spellings for the name automaton');
  // Rows are added as the trie grows; in each, token classes start at NAME_UNKNOWN.
  const rows: Int16Array[] = [];
  const newRow = (): number => {
    const row = new Int16Array(NAME_CLASSES);
    row[0] = -1;
    rows.push(row);
    accept.push(undefined);
    return rows.length - 1;
  };
  newRow(); // row 0, NAME_UNKNOWN: stays unknown
  newRow(); // row 1, NAME_START
  for (const known of spellings) {
    let state = 1;
    for (let i = 0; i < known.spelling.length; i++) {
      const k = NAME_CLASS[known.spelling.charCodeAt(i)] as number;
      const row = rows[state] as Int16Array;
      if (row[k] === NAME_UNKNOWN) row[k] = newRow();
      state = row[k] as number;
    }
    accept[state] = known;
  }
  if (rows.length * NAME_CLASSES > 0x7fff) throw new Error('too many known header spellings for the name automaton');
  // Row numbers become row offsets; -1 stays.
  const table = new Int16Array(rows.length * NAME_CLASSES);
  rows.forEach((row, state) => table.set(row.map((next) => (next < 0 ? next : next * NAME_CLASSES)), state * NAME_CLASSES));
  return table;
}

/**
 * The spelling and key of a header name written at text[start, end), for the spellings of
 * COMMON_HEADER_NAMES (knownSpellings), without making a string first: the name automaton
 * read over the text's characters (the splitter reads it over a message's bytes, in the same
 * way). Undefined for any other name (then headerKeyByRule gives the key).
 */
export function knownHeaderAt(text: string, start: number, end: number): KnownSpelling | undefined {
  const step = NAME_STEP;
  const classOf = NAME_CLASS;
  let state = NAME_START;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // NAME_CLASS covers bytes; a character past them is no token character either.
    if (c > 255) return undefined;
    state = step[state | (classOf[c] as number)] as number;
    // -1: not a token character; NAME_UNKNOWN: a token that starts no known spelling.
    if (state <= NAME_UNKNOWN) return undefined;
  }
  return NAME_ACCEPT[state >> NAME_CLASS_BITS];
}

/** The key of a header name written at text[start, end), or undefined as knownHeaderAt. */
export function knownHeaderKeyAt(text: string, start: number, end: number): string | undefined {
  return knownHeaderAt(text, start, end)?.key;
}

/** The lower-case long form of a header name, the key sipsec looks headers up by. */
export function headerKey(name: string): string {
  return KEY_OF_SPELLING.get(name) ?? headerKeyByRule(name);
}

/**
 * The automaton's spellings and their keys as a map, for headerKey: a whole string is looked up
 * in a Map in about 8 ns, where the automaton read over its characters took 22 (measured,
 * V8 11). Not a second recogniser: its entries are NAME_ACCEPT's.
 */
const KEY_OF_SPELLING = new Map<string, string>(NAME_ACCEPT.flatMap((known) => (known === undefined ? [] : [[known.spelling, known.key] as const])));

/**
 * headerKey without the automaton, for a caller that has just run it over the name and learnt
 * it is no known spelling: lower case, the compact form expanded, interned. Right for any name.
 */
export function headerKeyByRule(name: string): string {
  const seen = SEEN.get(name);
  if (seen !== undefined) return seen;
  const lower = name.toLowerCase();
  const key = COMPACT_FORMS[lower] ?? lower;
  // Remember other spellings too, up to a bound, so a hostile peer cannot grow the map (nor
  // V8's string table).
  if (SEEN.size >= MAX_SEEN_SPELLINGS) return key;
  const stored = internalized(key);
  SEEN.set(name, stored);
  return stored;
}

const SEEN = new Map<string, string>();
const MAX_SEEN_SPELLINGS = 1024;

/** How sipsec spells a header it writes: `Call-ID`, `CSeq`, `Record-Route`. */
export function canonicalHeaderName(key: string): string {
  const known = CANONICAL.get(key) ?? SPELLED.get(key);
  if (known !== undefined) return known;
  const spelled = key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  // Every response and every added header asks: remember the answer, up to a bound (hostile names).
  if (SPELLED.size < MAX_SEEN_SPELLINGS) SPELLED.set(key, spelled);
  return spelled;
}

const SPELLED = new Map<string, string>();

/** Headers whose value is a comma-separated list (RFC 3261 section 7.3.1). */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'contact', 'route', 'record-route', 'require', 'proxy-require', 'supported', 'unsupported',
  'warning', 'reason', 'allow', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'alert-info', 'call-info', 'error-info', 'in-reply-to', 'path', 'service-route',
  'allow-events',
]);

/** Headers that may appear once only (RFC 3261 section 7.3.1 and table 2). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires',
]);

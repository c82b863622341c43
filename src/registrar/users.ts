import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { computeHa1, type DigestAlgorithm, type Ha1Source } from './digest.js';
import { RegistrarError } from './errors.js';
import { parseSipUri, type SipUri } from '../sip/uri.js';

/**
 * users.yaml: the digest credentials of a domain's local users, keyed by address.
 *
 *   bob@b.test: { ha1-sha256: "…", ha1-md5: "…" }   # HA1 = H(user:realm:password), realm = the domain
 *   alice@a.test: { password: "…" }                 # accepted for tests and demos, with a warning
 *   carol@a.test: { ha1-sha256: "…", ha1-md5: "…", forward: "sip:carol@c.test" }   # every request forwarded
 *
 * An entry may name another realm (`realm: …`) when its HA1 values were made for one.
 */

/** user@domain: no white space, one @, both sides non-empty. */
const ADDRESS = /^[^\s@:;<>"]+@[A-Za-z0-9.-]+$/;

const entrySchema = z
  .strictObject({
    'ha1-sha256': z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (SHA-256 of user:realm:password)').optional(),
    'ha1-md5': z.string().regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex digits (MD5 of user:realm:password)').optional(),
    password: z.string().min(1, 'must not be empty').optional(),
    realm: z.string().min(1, 'must not be empty').optional(),
    forward: z.string().refine(isForwardTarget, 'must be a sip or sips URI with a user and a domain, like sip:bob@example.net').optional(),
  })
  // A user that only forwards never registers, so needs no credentials.
  .refine((e) => e.forward !== undefined || e.password !== undefined || e['ha1-sha256'] !== undefined || e['ha1-md5'] !== undefined, { message: 'needs ha1-sha256 and ha1-md5 (or a password, or a forward target)' })
  .refine((e) => e.password === undefined || (e['ha1-sha256'] === undefined && e['ha1-md5'] === undefined), { message: 'has both a password and HA1 values: keep one' });

const fileSchema = z.union([z.null(), z.record(z.string().regex(ADDRESS, 'is not an address user@domain'), entrySchema)]);

/** One fault of a users file: where (key path and line) and what. */
export interface UsersIssue {
  readonly path: string;
  readonly line: number | undefined;
  readonly message: string;
}

export class UsersFileError extends RegistrarError {
  constructor(
    readonly file: string,
    readonly issues: readonly UsersIssue[],
  ) {
    super('USERS_ERR_INVALID', `${file}: ${issues.map((i) => `${i.line === undefined ? '' : `line ${i.line}: `}${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('; ')}`);
    this.name = 'UsersFileError';
  }
}

interface UserEntry {
  readonly user: string;
  readonly realm: string;
  readonly ha1: Readonly<Partial<Record<DigestAlgorithm, string>>>;
  /** Unconditional call forwarding: every request for the user goes to this URI instead. */
  readonly forward?: SipUri;
}

/** The users of a users file, answering the digest authenticator's HA1 look-ups. */
export class UserDirectory implements Ha1Source {
  readonly #entries: ReadonlyMap<string, UserEntry>;
  // By digest username and realm, which is how credentials name a user.
  readonly #byCredentials = new Map<string, UserEntry>();

  constructor(entries: ReadonlyMap<string, UserEntry>) {
    this.#entries = entries;
    for (const entry of entries.values()) this.#byCredentials.set(`${entry.user}\0${entry.realm}`, entry);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether `address` (user@domain) is a local user: the proxy's 404 versus 480 (RFC 3261 section 16.5). */
  has(address: string): boolean {
    return this.#entries.has(normalizeAddress(address));
  }

  /** Where every request for `address` is forwarded (its `forward:`), if anywhere. */
  forwardOf(address: string): SipUri | undefined {
    return this.#entries.get(normalizeAddress(address))?.forward;
  }

  /** The digest username is the user part of the address, and the realm the one its HA1 was made for. */
  ha1(username: string, realm: string, algorithm: DigestAlgorithm): string | undefined {
    return this.#byCredentials.get(`${username}\0${realm}`)?.ha1[algorithm];
  }
}

function normalizeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

export interface UsersFile {
  readonly users: UserDirectory;
  /** For the log: plain passwords, missing algorithms. */
  readonly warnings: readonly string[];
}

/** The YAML document of a users file, checked for syntax; throws UsersFileError naming the lines. */
export function parseUsersDocument(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new UsersFileError(file, doc.errors.map((e) => ({ path: '', line: lines.linePos(e.pos[0]).line, message: e.message })));
  }
  return { doc, lines };
}

/** The line of the last key of `path` that exists in the document (the whole document's for an empty path). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, lines);
  for (const key of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
    if (pair === undefined) break;
    line = rangeLine(pair.key, lines) ?? line;
    node = pair.value;
  }
  return line;
}

/** A zod issue as a UsersIssue: an unknown key's path ends with that key, a bad record key says why. */
function toIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter): UsersIssue {
  let path: PropertyKey[] = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0] ?? ''];
    message = `unknown key (expected ha1-sha256, ha1-md5, password, realm or forward)`;
  } else if (issue.code === 'invalid_key') {
    message = issue.issues[0]?.message ?? message;
  }
  return { path: path.map(String).join('.'), line: lineOf(doc, lines, path), message };
}

function rangeLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : lines.linePos(range[0]).line;
}

/** Reads a users file; throws UsersFileError with every fault, each with its key path and line. */
export function parseUsersFile(text: string, file: string): UsersFile {
  const { doc, lines } = parseUsersDocument(text, file);
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    // A record's key fault has the key as its path; its other issues come from the union's second branch.
    const issues = parsed.error.issues.flatMap((issue) => (issue.code === 'invalid_union' ? issue.errors.flat() : [issue]));
    const relevant = issues.filter((i) => !(i.code === 'invalid_type' && i.expected === 'null'));
    throw new UsersFileError(
      file,
      relevant.map((i) => toIssue(i, doc, lines)),
    );
  }
  const entries = new Map<string, UserEntry>();
  const warnings: string[] = [];
  for (const [address, entry] of Object.entries(parsed.data ?? {})) {
    const key = normalizeAddress(address);
    const at = key.lastIndexOf('@');
    const user = key.slice(0, at);
    const realm = entry.realm ?? key.slice(at + 1);
    const where = `${file} line ${lineOf(doc, lines, [address]) ?? '?'}`;
    if (entries.has(key)) throw new UsersFileError(file, [{ path: address, line: lineOf(doc, lines, [address]), message: `is listed twice (as ${key})` }]);
    let ha1: Partial<Record<DigestAlgorithm, string>>;
    if (entry.password === undefined && entry['ha1-sha256'] === undefined && entry['ha1-md5'] === undefined) {
      ha1 = {};
    } else if (entry.password !== undefined) {
      warnings.push(`${where}: ${address} has a plain password; store HA1 values instead (sipsec user add ${address})`);
      ha1 = { 'SHA-256': computeHa1('SHA-256', user, realm, entry.password), MD5: computeHa1('MD5', user, realm, entry.password) };
    } else {
      ha1 = {};
      if (entry['ha1-sha256'] !== undefined) ha1['SHA-256'] = entry['ha1-sha256'].toLowerCase();
      else warnings.push(`${where}: ${address} has no ha1-sha256: it cannot answer SHA-256 challenges`);
      if (entry['ha1-md5'] !== undefined) ha1.MD5 = entry['ha1-md5'].toLowerCase();
      else warnings.push(`${where}: ${address} has no ha1-md5: it cannot answer MD5 challenges`);
    }
    entries.set(key, { user, realm, ha1, ...(entry.forward !== undefined ? { forward: parseSipUri(entry.forward) } : {}) });
  }
  return { users: new UserDirectory(entries), warnings };
}

/** The entry `sipsec user add` writes: both HA1 values, never the password. */
export function credentialEntry(address: string, password: string, realm?: string): Record<string, string> {
  const at = address.lastIndexOf('@');
  const user = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const r = realm ?? domain;
  const entry: Record<string, string> = { 'ha1-sha256': computeHa1('SHA-256', user, r, password), 'ha1-md5': computeHa1('MD5', user, r, password) };
  if (r !== domain) entry['realm'] = r;
  return entry;
}

export function isUserAddress(text: string): boolean {
  return ADDRESS.test(text);
}

function isForwardTarget(text: string): boolean {
  try {
    const uri = parseSipUri(text);
    return uri.user !== undefined && uri.user !== '';
  } catch {
    return false;
  }
}

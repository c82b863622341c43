/**
 * Input handling shared by `sipsec cert verify`, `sipsec dane verify` and `sipsec tlsa generate`:
 * certificate files (PEM or DER, `-` for standard input), trust stores (files, directories, the
 * word `system`), names and `--time`, with every mistake reported as a UsageError that names the
 * option.
 */
import { jsonDocument } from './json-output.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeCertificateFile, parseCertificate, type ParsedCertificate } from '../tls/certificate.js';
import { TlsError } from '../tls/errors.js';
import { toAsciiHostName } from '../tls/host-name.js';
import { TrustStore } from '../tls/trust-store.js';
import { renderVerdict, verdictJson, type PeerVerdict } from '../tls/verdict.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from './command.js';
import { readInputFile } from './input-file.js';

/**
 * The operating system's CA bundle, first found wins: Debian and Ubuntu (update-ca-certificates),
 * Fedora and RHEL (update-ca-trust), Alpine, macOS and the BSDs, openSUSE.
 */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];

/** What the inputs of one command run share: standard input can be read once. */
export class InputReader {
  #stdinBy: string | undefined;
  readonly #readStdin: () => Promise<Buffer>;

  constructor(readStdin: () => Promise<Buffer> = readProcessStdin) {
    this.#readStdin = readStdin;
  }

  /** The bytes of a file named on the command line, or of standard input for `-`. */
  async read(file: string, option: string): Promise<Buffer> {
    if (file !== '-') return readInputFile(file, option);
    if (this.#stdinBy !== undefined) throw new UsageError(`${option}: standard input (-) is already read by ${this.#stdinBy}`);
    this.#stdinBy = option;
    return this.#readStdin();
  }

  /** Every certificate of a PEM or DER file, in file order. */
  async certificates(file: string, option: string): Promise<ParsedCertificate[]> {
    const bytes = await this.read(file, option);
    try {
      return decodeCertificateFile(bytes).ders.map(parseCertificate);
    } catch (err) {
      if (err instanceof TlsError) throw new UsageError(`${option}: ${displayName(file)}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /**
   * The trust store from `--ca` values: files (PEM or DER), directories (every certificate file in
   * them, as openssl's -CApath but without the hashed names), `system` (the operating system's
   * bundle) or `-`; Node's bundled roots when there is none. Certificates are trust anchors
   * whatever they are, roots or intermediates (openssl needs -partial_chain for the latter).
   */
  async trustStore(values: readonly string[] | undefined, io: CliIo): Promise<TrustStore> {
    if (values === undefined || values.length === 0) return TrustStore.system();
    const bySha256 = new Map<string, ParsedCertificate>();
    for (const value of values) {
      for (const cert of await this.#anchors(value, io)) bySha256.set(cert.sha256, cert);
    }
    return new TrustStore([...bySha256.values()]);
  }

  async #anchors(value: string, io: CliIo): Promise<ParsedCertificate[]> {
    if (value === 'system') {
      const bundle = await firstExisting(SYSTEM_CA_BUNDLES);
      if (bundle === undefined) throw new UsageError(`--ca system: no CA bundle found (looked for ${SYSTEM_CA_BUNDLES.join(', ')}); name the file`);
      return certificatesSkippingBad(await this.read(bundle, '--ca system'), `--ca system: ${bundle}`, io);
    }
    if (value !== '-' && (await isDirectory(value))) return directoryAnchors(value, io);
    return this.certificates(value, '--ca');
  }
}

async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function displayName(file: string): string {
  return file === '-' ? 'standard input' : file;
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isDirectory();
  } catch {
    return false;
  }
}

async function firstExisting(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    try {
      if ((await fs.stat(file)).isFile()) return file;
    } catch {
      // not here: try the next
    }
  }
  return undefined;
}

/**
 * Every certificate in the regular files of a directory (symbolic links followed, as in
 * /etc/ssl/certs). Files that are neither PEM nor DER certificates (READMEs, CRLs, keys) are passed
 * over; a certificate that does not parse is left out with a warning, as for `system`.
 */
async function directoryAnchors(dir: string, io: CliIo): Promise<ParsedCertificate[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch (err) {
    throw new UsageError(`--ca: cannot read directory ${dir}: ${err instanceof Error && 'code' in err ? String(err.code) : 'unreadable'}`, { cause: err });
  }
  const found: ParsedCertificate[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if (!(await fs.stat(file)).isFile()) continue;
    } catch {
      continue;
    }
    const bytes = await readInputFile(file, '--ca');
    let ders: Buffer[];
    try {
      ders = decodeCertificateFile(bytes).ders;
    } catch {
      continue;
    }
    found.push(...parseSkippingBad(ders, `--ca: ${file}`, io));
  }
  if (found.length === 0) throw new UsageError(`--ca: no certificate in directory ${dir}`);
  return found;
}

function certificatesSkippingBad(bytes: Buffer, where: string, io: CliIo): ParsedCertificate[] {
  try {
    return parseSkippingBad(decodeCertificateFile(bytes).ders, where, io);
  } catch (err) {
    if (err instanceof TlsError) throw new UsageError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** A store of many CAs is used without the few the reader refuses, as TrustStore.system() does. */
function parseSkippingBad(ders: readonly Buffer[], where: string, io: CliIo): ParsedCertificate[] {
  const parsed: ParsedCertificate[] = [];
  ders.forEach((der, i) => {
    try {
      parsed.push(parseCertificate(der));
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      io.stderr(`warning: ${where}: certificate ${i + 1} left out: ${err.message}\n`);
    }
  });
  return parsed;
}

/**
 * The trust store from `--ca` values for a command with no other input (`sipsec options`): files,
 * directories, `system` or `-`, as InputReader.trustStore; warnings go to `io` when given.
 */
export async function readTrustStore(values: readonly string[] | undefined, io?: CliIo): Promise<TrustStore> {
  return new InputReader().trustStore(values, io ?? { stdout: () => undefined, stderr: () => undefined });
}

/** The one value of an option that parseArgs collects as `multiple` so that a repetition is caught. */
export function singleOption(values: readonly string[] | undefined, option: string, what: string): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw new UsageError(`${option} given ${values.length} times: give ${what} once`);
  return values[0];
}

/** A host or domain name as A-labels (toAsciiHostName), or a usage error saying why it is not one. */
export function hostNameOption(value: string, option: string): string {
  const reading = toAsciiHostName(value);
  if (!reading.ok) throw new UsageError(`${option}: ${JSON.stringify(value)} ${reading.why}`);
  return reading.ascii;
}

/**
 * Checks that a chain file is leaf first, then each issuer. A leaf that is not first makes the
 * verdict about the wrong certificate: a usage error. Intermediates out of order are verified anyway
 * (the path builder takes any order) with a warning: TLS 1.2 requires the order (RFC 5246 section
 * 7.4.2) and some clients rely on it.
 */
export function checkChainOrder(chain: readonly ParsedCertificate[], file: string, io: CliIo): void {
  const first = chain[0];
  if (first === undefined) return;
  const issued = chain.findIndex((cert, i) => i > 0 && !cert.selfIssued && cert.raw.issuer.equals(first.raw.subject));
  if (issued > 0) {
    throw new UsageError(`--chain: ${displayName(file)} is not in order: certificate 1 (${first.subjectText}) issued certificate ${issued + 1} (${(chain[issued] as ParsedCertificate).subjectText}); put the leaf first, then its issuer, as a server sends them`);
  }
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i - 1] as ParsedCertificate;
    if (child.selfIssued || (chain[i] as ParsedCertificate).raw.subject.equals(child.raw.issuer)) continue;
    const later = chain.findIndex((cert, k) => k > i && cert.raw.subject.equals(child.raw.issuer));
    if (later > 0) {
      io.stderr(`warning: --chain: ${displayName(file)} is out of order: the issuer of certificate ${i} (${child.subjectText}) is certificate ${later + 1}, not ${i + 1}; verified anyway, but TLS 1.2 peers must send the chain in order\n`);
      return;
    }
  }
}

/** `--time UNIX` (seconds since the epoch) as a Date; now when absent. */
export function parseTimeOption(value: string | undefined): Date {
  if (value === undefined) return new Date();
  if (!/^\d{1,12}$/.test(value)) throw new UsageError(`--time must be UNIX seconds, not ${JSON.stringify(value)}`);
  return new Date(Number(value) * 1000);
}

/** A non-negative integer option within bounds. */
export function parseIntegerOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/**
 * Prints the verdict and maps it to the exit code: 0 authenticated, 1 not. JSON is one document on
 * one line, newline-terminated (verdictJson: `authenticated`, reasons with their severity).
 */
export function printVerdict(command: 'cert' | 'dane', verdict: PeerVerdict, json: boolean, io: CliIo): number {
  io.stdout(json ? jsonDocument(command, verdictJson(verdict)) : renderVerdict(verdict));
  return verdict.ok ? EXIT_OK : EXIT_FINDINGS;
}

/** Runs the one subcommand of a two-word command (`sipsec dane verify`). */
export function requireSubcommand(argv: readonly string[], name: string, command: string): readonly string[] {
  const [sub, ...rest] = argv;
  if (sub !== name) throw new UsageError(sub === undefined ? `missing subcommand: sipsec ${command} ${name}` : `unknown subcommand '${sub}': sipsec ${command} ${name}`);
  return rest;
}

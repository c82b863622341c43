/**
 * Input handling shared by `sipsec cert verify`, `sipsec dane verify` and `sipsec tlsa generate`:
 * reading PEM files, trust stores and `--time`, with every mistake reported as a UsageError.
 */
import { parsePemCertificates, type ParsedCertificate } from '../tls/certificate.js';
import { TlsError } from '../tls/errors.js';
import { TrustStore } from '../tls/trust-store.js';
import { renderVerdict, type PeerVerdict } from '../tls/verdict.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from './command.js';
import { readInputFile } from './input-file.js';

/** Every certificate of a PEM file, in file order. */
export async function readCertificates(file: string, option: string): Promise<ParsedCertificate[]> {
  const text = (await readInputFile(file, option)).toString('utf8');
  try {
    return parsePemCertificates(text);
  } catch (err) {
    if (err instanceof TlsError) throw new UsageError(`${option}: ${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The trust store from `--ca` files, or Node's bundled roots when none is given. */
export async function readTrustStore(files: readonly string[] | undefined): Promise<TrustStore> {
  if (files === undefined || files.length === 0) return TrustStore.system();
  const certificates: ParsedCertificate[] = [];
  for (const file of files) certificates.push(...(await readCertificates(file, '--ca')));
  return new TrustStore(certificates);
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

/** Prints the verdict (text or JSON) and maps it to the exit code: 0 authenticated, 1 not. */
export function printVerdict(verdict: PeerVerdict, json: boolean, io: CliIo): number {
  io.stdout(json ? `${JSON.stringify(verdict, null, 2)}\n` : renderVerdict(verdict));
  return verdict.ok ? EXIT_OK : EXIT_FINDINGS;
}

/** Runs the one subcommand of a two-word command (`sipsec dane verify`). */
export function requireSubcommand(argv: readonly string[], name: string, command: string): readonly string[] {
  const [sub, ...rest] = argv;
  if (sub !== name) throw new UsageError(sub === undefined ? `missing subcommand: sipsec ${command} ${name}` : `unknown subcommand '${sub}': sipsec ${command} ${name}`);
  return rest;
}

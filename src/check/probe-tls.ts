/**
 * The TLS probe of one target: a handshake as a careful client makes it (SNI = the SIP domain,
 * OCSP status requested), the chain as presented, then one handshake per protocol version offered
 * alone, and whether the server asks for a client certificate. Nothing is verified here: the
 * evaluators judge the chain (src/tls) from what was recorded.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { parseCertificate } from '../tls/certificate.js';
import { peerChain } from '../transport/tls-connect.js';
import { CHECK_LIMITS } from '../limits.js';
import { TLS_VERSIONS, type TlsObservation, type TlsTargetPlan, type TlsVersionName } from './observations.js';

export interface TlsProbeOptions {
  readonly timeoutMs?: number;
  /** Aborting destroys every socket and child process of the probe. */
  readonly signal?: AbortSignal;
  /** The openssl binary used to see a CertificateRequest; null: do not look. Default `openssl` from PATH. */
  readonly openssl?: string | null;
}

/**
 * Old versions need OpenSSL security level 0 on our side: OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1
 * signatures) at the default level, so a server accepting them would otherwise look safe.
 */
const OLD_VERSION_CIPHERS = 'DEFAULT@SECLEVEL=0';

export async function probeTls(plan: TlsTargetPlan, domain: string, options: TlsProbeOptions = {}): Promise<TlsObservation> {
  const timeoutMs = options.timeoutMs ?? CHECK_LIMITS.handshakeTimeoutMs;
  const servername = domain;
  const base = { host: plan.address, port: plan.port, rejectUnauthorized: false, ca: [], ...(isIP(servername) === 0 ? { servername } : {}) };
  const versionsNotTried: Record<TlsVersionName, null> = { TLSv1: null, 'TLSv1.1': null, 'TLSv1.2': null, 'TLSv1.3': null };
  // tls.connect passes requestOCSP on to the TLSSocket (RFC 6066 status_request); the typings omit it.
  const withOcsp: ConnectionOptions = Object.assign({ ...base }, { requestOCSP: true });
  const main = await handshake(withOcsp, timeoutMs, options.signal, (socket) => {
    const chain = peerChain(socket).map((der) => der.toString('base64'));
    const cipher = socket.getCipher();
    return { protocol: socket.getProtocol() ?? undefined, cipher: cipher.standardName || cipher.name, chain, key: leafKey(chain[0]) };
  });
  if (!main.ok) {
    return { connected: false, error: main.error, servername, chain: [], ocspStapled: false, clientCertificateRequested: null, versions: versionsNotTried };
  }
  const versionResults = await Promise.all(TLS_VERSIONS.map(async (v) => {
    const r = await handshake({ ...base, minVersion: v, maxVersion: v, ciphers: OLD_VERSION_CIPHERS }, timeoutMs, options.signal, (s) => s.getProtocol());
    return [v, r.ok && r.value === v] as const;
  }));
  const openssl = options.openssl === undefined ? 'openssl' : options.openssl;
  const clientCertificateRequested = openssl === null ? null : await certificateRequested(openssl, plan, servername, timeoutMs, options.signal);
  return {
    connected: true,
    servername,
    ...(main.value.protocol !== undefined ? { protocol: main.value.protocol } : {}),
    cipher: main.value.cipher,
    ...(main.value.key !== undefined ? { key: main.value.key } : {}),
    chain: main.value.chain,
    ocspStapled: main.ocspStapled,
    clientCertificateRequested,
    versions: Object.fromEntries(versionResults) as Record<TlsVersionName, boolean>,
  };
}

type HandshakeResult<T> = { ok: true; value: T; ocspStapled: boolean } | { ok: false; error: string };

/** One handshake; `read` runs on the connected socket, which is then closed. Never rejects. */
function handshake<T>(options: ConnectionOptions, timeoutMs: number, signal: AbortSignal | undefined, read: (socket: TLSSocket) => T): Promise<HandshakeResult<T>> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve({ ok: false, error: 'aborted' });
      return;
    }
    let ocspStapled = false;
    let settled = false;
    let socket: TLSSocket;
    const finish = (result: HandshakeResult<T>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, error: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, error: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket = connect(options);
    } catch (err) {
      // connect() throws synchronously for options OpenSSL refuses (e.g. a version it cannot do).
      socket = { destroy: () => undefined } as unknown as TLSSocket;
      finish({ ok: false, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    socket.on('error', (err: Error) => finish({ ok: false, error: err.message }));
    socket.on('OCSPResponse', (response: Buffer | null) => {
      // Node emits the event with null when the server stapled nothing.
      if (response !== null && response.length > 0) ocspStapled = true;
    });
    socket.once('secureConnect', () => {
      try {
        finish({ ok: true, value: read(socket), ocspStapled });
      } catch (err) {
        finish({ ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}

/** `EC prime256v1`, `RSA 2048`, or the key type alone. */
function leafKey(b64: string | undefined): string | undefined {
  if (b64 === undefined) return undefined;
  try {
    const key = parseCertificate(Buffer.from(b64, 'base64')).x509.publicKey;
    const details = key.asymmetricKeyDetails;
    const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
    if (details?.namedCurve !== undefined) return `${type} ${details.namedCurve}`;
    if (details?.modulusLength !== undefined) return `${type} ${details.modulusLength}`;
    return type;
  } catch {
    return undefined;
  }
}

/**
 * Whether the server sends a CertificateRequest. Node's client API does not tell; `openssl
 * s_client` prints "Requested Signature Algorithms" only when it received one (TLS 1.2 and 1.3).
 * null when openssl is missing or the handshake failed.
 */
function certificateRequested(openssl: string, plan: TlsTargetPlan, servername: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean | null> {
  const host = plan.family === 6 ? `[${plan.address}]` : plan.address;
  const args = ['s_client', '-connect', `${host}:${plan.port}`, ...(isIP(servername) === 0 ? ['-servername', servername] : [])];
  return new Promise((resolve) => {
    const child = execFile(openssl, args, { timeout: timeoutMs, encoding: 'utf8', ...(signal ? { signal } : {}) }, (err, stdout) => {
      if (!/^(New|Reused), /m.test(stdout)) {
        resolve(null);
        return;
      }
      void err;
      resolve(/^Requested Signature Algorithms:/m.test(stdout));
    });
    // s_client reads stdin; closing it ends the session right after the handshake.
    child.stdin?.end();
  });
}

import type { TlsOptions, SecureContext } from 'node:tls';
import type { SecureContextCache } from './secure-context-cache.js';

/** A certificate a TLS or WSS listener presents, chosen by SNI among the domains it covers. */
export interface ServerCertificate {
  /** SIP domains (and host names) this certificate is presented for; the first listed is the default. */
  readonly domains: readonly string[];
  readonly cert: string;
  readonly key: string;
}

/**
 * The server options shared by the TLS and the WSS listener: the certificate chosen by SNI among
 * the hosted domains (RFC 5922 section 7.2), a client certificate requested but verified by sipsec
 * (section 7.4), TLS 1.2 or later. `where` names the listener in the error for a missing certificate.
 */
export function tlsServerOptions(certificates: readonly ServerCertificate[], contexts: SecureContextCache, handshakeTimeoutMs: number, where: string): TlsOptions {
  const [first] = certificates;
  if (first === undefined) throw new TypeError(`${where} needs at least one certificate`);
  const byDomain = new Map<string, ServerCertificate>();
  for (const c of certificates) for (const d of c.domains) byDomain.set(d.toLowerCase().replace(/\.$/, ''), c);
  const contextFor = (c: ServerCertificate): SecureContext => contexts.get({ cert: c.cert, key: c.key });
  return {
    // The default certificate, for clients that send no SNI (IP-addressed peers such as Kamailio's
    // dispatcher): tls.Server builds its default context from these options, not from secureContext.
    cert: first.cert,
    key: first.key,
    // An empty store: the client chain is then what the client presented (sipsec verifies it).
    ca: [],
    // SNI names the SIP domain the client wants (RFC 5922 section 7.2 uses it to pick the certificate).
    SNICallback: (servername, callback) => callback(null, contextFor(byDomain.get(servername.toLowerCase()) ?? first)),
    requestCert: true,
    // sipsec verifies client certificates itself (RFC 5922 section 7.4) and keeps the verdict.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
  };
}

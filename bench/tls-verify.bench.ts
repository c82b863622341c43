/**
 * Cost of TLS peer verification per connection: a plain Node TLS connect beside connectAndVerify
 * with PKIX (RFC 5922), DANE-EE and DANE-TA, on loopback against an in-process server; the
 * verifier alone (no socket); and why secure contexts are cached (building one with the system
 * roots). Writes its section of docs/BENCHMARKS.md between the `tls` markers.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createSecureContext, rootCertificates } from 'node:tls';
import { parseCertificate } from '../src/tls/certificate.js';
import { generateTlsaRecord } from '../src/tls/tlsa.js';
import { TrustStore } from '../src/tls/trust-store.js';
import { verifyServer, type ServerTarget } from '../src/tls/verify-peer.js';
import { connectAndVerify } from '../src/transport/tls-connect.js';
import { SecureContextCache } from '../src/transport/secure-context-cache.js';
import { issueCertificate } from '../src/lab/certificates.js';
import { startTlsServer } from '../test/support/tls-servers.js';
import { machineLine, writeReportSection } from './markdown-report.js';

const budgetMs = Number(process.env.SIPSEC_BENCH_MS ?? 600);

const root = issueCertificate({ cn: 'Bench Root CA', ca: true });
const ca = issueCertificate({ cn: 'Bench Issuing CA', ca: true, issuer: root });
const leaf = issueCertificate({ cn: 'sip1.example.net', issuer: ca, san: { uri: ['sip:example.com'], dns: ['sip1.example.net'] } });
// The realistic PKIX store: Node's bundled roots plus the private root.
const store = TrustStore.system().with(TrustStore.fromPem(root.pem));
const tlsa = (u: number, s: number, m: number, c = leaf): TlsaRecordLike => generateTlsaRecord(parseCertificate(c.der), u, s, m);
type TlsaRecordLike = ReturnType<typeof generateTlsaRecord>;

const TARGETS: Readonly<Record<'pkix' | 'dane-ee' | 'dane-ta', ServerTarget>> = {
  'pkix': { sipDomain: 'example.com' },
  'dane-ee': { sipDomain: 'example.com', srvHost: 'sip1.example.net', dnsState: 'secure', tlsa: { name: '_5061._tcp.sip1.example.net', state: 'secure', records: [tlsa(3, 1, 1)] } },
  'dane-ta': { sipDomain: 'example.com', srvHost: 'sip1.example.net', dnsState: 'secure', tlsa: { name: '_5061._tcp.sip1.example.net', state: 'secure', records: [tlsa(2, 0, 1, root)] } },
};

function measureSync(op: () => void, warmup: number): { ns: number; runs: number } {
  for (let i = 0; i < warmup; i++) op();
  let runs = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    op();
    runs++;
    now = process.hrtime.bigint();
  }
  return { ns: Number(now - start) / runs, runs };
}

const fmt = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);

async function main(): Promise<void> {
  const server = await startTlsServer({ chain: [leaf, ca, root] });
  const contexts = new SecureContextCache();
  const plainContext = contexts.get();
  try {
    const plainConnect = (): Promise<void> => new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, secureContext: plainContext, rejectUnauthorized: false, servername: 'example.com' });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
    const verifiedConnect = (target: ServerTarget) => async (): Promise<void> => {
      const r = await connectAndVerify({ host: '127.0.0.1', port: server.port, target, trustStore: store, contexts });
      if (!r.verdict.ok) throw new Error(`bench setup: ${JSON.stringify(r.verdict.reasons)}`);
      r.socket?.destroy();
    };

    // Connections: scenarios interleaved round by round, median per scenario, so that drift and the
    // load of a shared machine hit every scenario alike.
    const scenarios: { name: string; label: string; op: () => Promise<void> }[] = [
      { name: 'plain', label: 'plain Node TLS connect (no verification)', op: plainConnect },
      ...Object.entries(TARGETS).map(([name, target]) => ({ name, label: `connect + verify, ${name}`, op: verifiedConnect(target) })),
    ];
    for (const sc of scenarios) for (let i = 0; i < 10; i++) await sc.op();
    const samples = new Map<string, number[]>(scenarios.map((sc) => [sc.name, []]));
    const deadline = process.hrtime.bigint() + BigInt(budgetMs * scenarios.length) * 1_000_000n;
    while (process.hrtime.bigint() < deadline) {
      for (const sc of scenarios) {
        const start = process.hrtime.bigint();
        await sc.op();
        samples.get(sc.name)?.push(Number(process.hrtime.bigint() - start));
      }
    }
    const median = (xs: number[]): number => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? NaN;
    };
    const plainNs = median(samples.get('plain') ?? []);
    const rows = scenarios.map((sc) => {
      const xs = samples.get(sc.name) ?? [];
      const ns = median(xs);
      const delta = sc.name === 'plain' ? '—' : `${ns >= plainNs ? '+' : '−'}${fmt(Math.abs(ns - plainNs))}`;
      return `| ${sc.label} | ${fmt(ns)} | ${delta} | ${xs.length} |`;
    });
    process.stderr.write(`${rows.join('\n')}\n`);

    const chainDer = [leaf.der, ca.der, root.der];
    const verifyOnly: string[] = [];
    for (const [name, target] of Object.entries(TARGETS)) {
      const verdict = verifyServer({ chain: chainDer, target, trustStore: store });
      if (!verdict.ok) throw new Error(`bench setup: ${name}`);
      const warm = measureSync(() => void verifyServer({ chain: chainDer, target, trustStore: store }), 200);
      // New chain: never seen before, every certificate parsed from DER first.
      const cold = measureSync(() => void verifyServer({ chain: chainDer.map((der) => parseCertificate(der)), target, trustStore: store }), 5);
      verifyOnly.push(`| ${name} (method ${verdict.method}) | ${fmt(warm.ns)} | ${fmt(cold.ns)} | ${warm.runs} / ${cold.runs} |`);
      process.stderr.write(`${name}: verify alone ${fmt(warm.ns)} known chain, ${fmt(cold.ns)} new chain\n`);
    }

    const build = measureSync(() => void createSecureContext({ ca: [...rootCertificates] }), 2);
    const cached = measureSync(() => void contexts.get(), 100);
    process.stderr.write(`context build ${fmt(build.ns)}, cached ${fmt(cached.ns)}\n`);

    const markdown = [
      '## TLS peer verification',
      '',
      `${machineLine()}, ${os.cpus().length} cores, ${budgetMs} ms per cell. Connections are made one after`,
      'another on loopback to a Node TLS server in the same process (TLS 1.3, ECDSA P-256; the server',
      'sends leaf, intermediate and root), so each figure includes both ends of the handshake. The PKIX',
      `trust store is Node's ${rootCertificates.length} bundled roots plus the private root.`,
      '',
      'Connections of all scenarios are interleaved, round after round; the figure is the median.',
      '',
      '| per connection | wall time (median) | over plain connect | connections |',
      '|---|---|---|---|',
      ...rows,
      '',
      'The verifier alone (`verifyServer` on the DER chain, no socket). "Known chain": the chain was seen',
      'before and its parsed certificates come from the verifier\'s cache (every connection after the first',
      'to a server); "new chain": every certificate is parsed from DER first (sipsec\'s DER reader, then',
      'OpenSSL\'s own parse with its 3.0 public key decoding for each signature check):',
      '',
      '| method | known chain | new chain | runs |',
      '|---|---|---|---|',
      ...verifyOnly,
      '',
      'Secure contexts: building one with the system roots costs ' +
        `${fmt(build.ns)}; a cache hit in \`SecureContextCache\` costs ${fmt(cached.ns)}. Contexts are built once`,
      'per option set and reused for every connection.',
      '',
      'Run: `bash scripts/bench.sh` (or `node dist/bench/tls-verify.bench.js` after a build).',
    ].join('\n');
    const file = writeReportSection(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), 'tls', markdown);
    process.stderr.write(`wrote ${file}\n`);
  } finally {
    await server.close();
  }
}

await main();

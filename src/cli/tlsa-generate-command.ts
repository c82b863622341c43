import { generateTlsaRecord, formatTlsaRecord, tlsaOwnerName } from '../tls/tlsa.js';
import { EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { parseIntegerOption, readCertificates, requireSubcommand } from './tls-command-input.js';

const USAGE = `usage: sipsec tlsa generate --cert FILE.pem [--usage U --selector S --mtype M] --host NAME --port N
  Prints the TLSA record to publish at _PORT._tcp.HOST (RFC 6698, RFC 7673 section 3.3).
  --cert FILE.pem  for usages 1 and 3 the first certificate of the file (the server's own);
                   for usages 0 and 2 the last one (the CA at the top of the chain the server sends)
  --usage U        0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (default 3)
  --selector S     0 full certificate, 1 SubjectPublicKeyInfo (default 1)
  --mtype M        0 full data, 1 SHA2-256, 2 SHA2-512 (default 1)
  --host NAME      the SRV target host name
  --port N         the SRV port (5061 for SIP over TLS)
exit: 0 printed, 2 usage error`;

export const tlsaCommand: Command = {
  name: 'tlsa',
  summary: 'tlsa generate: the TLSA record to publish for a certificate',
  usage: USAGE,
  async run(argv, io) {
    const rest = requireSubcommand(argv, 'generate', 'tlsa');
    const { values, positionals } = parseCommandArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        cert: { type: 'string' },
        usage: { type: 'string' },
        selector: { type: 'string' },
        mtype: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.cert === undefined) throw new UsageError('--cert is required');
    if (values.host === undefined || !/^[A-Za-z0-9_.-]+$/.test(values.host)) throw new UsageError('--host NAME is required');
    const port = parseIntegerOption('--port', values.port, 1, 65_535);
    if (port === undefined) throw new UsageError('--port is required');
    // RFC 7671 section 5.1 / 10.1.2: "3 1 1" is the recommended record.
    const usage = parseIntegerOption('--usage', values.usage, 0, 3) ?? 3;
    const selector = parseIntegerOption('--selector', values.selector, 0, 1) ?? 1;
    const mtype = parseIntegerOption('--mtype', values.mtype, 0, 2) ?? 1;
    const certificates = await readCertificates(values.cert, '--cert');
    const cert = usage === 0 || usage === 2 ? certificates[certificates.length - 1] : certificates[0];
    if (cert === undefined) throw new UsageError('--cert: no certificate');
    const record = generateTlsaRecord(cert, usage, selector, mtype);
    io.stdout(`${tlsaOwnerName(values.host, port)} IN TLSA ${formatTlsaRecord(record)}\n`);
    return EXIT_OK;
  },
};

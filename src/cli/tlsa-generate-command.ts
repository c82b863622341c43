import { jsonDocument } from './json-output.js';
import { generateTlsaRecord, formatTlsaRecord, tlsaOwnerName } from '../tls/tlsa.js';
import { EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { InputReader, hostNameOption, parseIntegerOption, requireSubcommand, singleOption } from './tls-command-input.js';

const USAGE = `usage: sipsec tlsa generate --cert FILE [--usage U --selector S --mtype M] --host NAME --port N [--json]
  Prints the TLSA record to publish at _PORT._tcp.HOST (RFC 6698, RFC 7673 section 3.3).
  --cert FILE   PEM or DER, '-' for standard input. For usages 1 and 3 the first certificate of the
                file (the server's own); for usages 0 and 2 the last one (the CA at the top of the
                chain the server sends)
  --usage U     0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (default 3)
  --selector S  0 Cert (full certificate), 1 SPKI (SubjectPublicKeyInfo) (default 1)
  --mtype M     0 Full, 1 SHA2-256, 2 SHA2-512 (default 1)
  --host NAME   the SRV target host name (not an IP address); an IDN is written as A-labels
  --port N      the SRV port (5061 for SIP over TLS)
  --json        print the record as one JSON document
exit: 0 printed, 2 usage or input error`;

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
        cert: { type: 'string', multiple: true },
        usage: { type: 'string', multiple: true },
        selector: { type: 'string', multiple: true },
        mtype: { type: 'string', multiple: true },
        host: { type: 'string', multiple: true },
        port: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const certFile = singleOption(values.cert, '--cert', 'one certificate file');
    const hostValue = singleOption(values.host, '--host', 'one host name');
    if (certFile === undefined) throw new UsageError('--cert is required');
    if (hostValue === undefined) throw new UsageError('--host is required');
    const host = hostNameOption(hostValue, '--host');
    const port = parseIntegerOption('--port', singleOption(values.port, '--port', 'one port'), 1, 65_535);
    if (port === undefined) throw new UsageError('--port is required');
    // RFC 7671 section 5.1 / 10.1.2: "3 1 1" is the recommended record.
    const usage = parseIntegerOption('--usage', singleOption(values.usage, '--usage', 'one usage'), 0, 3) ?? 3;
    const selector = parseIntegerOption('--selector', singleOption(values.selector, '--selector', 'one selector'), 0, 1) ?? 1;
    const mtype = parseIntegerOption('--mtype', singleOption(values.mtype, '--mtype', 'one matching type'), 0, 2) ?? 1;
    const certificates = await new InputReader().certificates(certFile, '--cert');
    const taUsage = usage === 0 || usage === 2;
    const cert = taUsage ? certificates[certificates.length - 1] : certificates[0];
    if (cert === undefined) throw new UsageError('--cert: no certificate');
    if (taUsage && cert.basicConstraints?.ca !== true) {
      io.stderr(`warning: --usage ${usage} names a CA, but no CA is in ${certFile === '-' ? 'standard input' : certFile}: its last certificate (${cert.subjectText}) is not a CA (no basicConstraints cA); give the chain file (leaf, then CAs) or use --usage 3 for the server's own key\n`);
    }
    const record = generateTlsaRecord(cert, usage, selector, mtype);
    const owner = tlsaOwnerName(host, port);
    if (values.json === true) {
      const data = Buffer.from(record.data).toString('hex');
      io.stdout(jsonDocument('tlsa', { owner, usage, selector, matchingType: mtype, data, record: formatTlsaRecord(record), certificate: { subject: cert.subjectText, sha256: cert.sha256 } }));
    } else {
      io.stdout(`${owner} IN TLSA ${formatTlsaRecord(record)}\n`);
    }
    return EXIT_OK;
  },
};

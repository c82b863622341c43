import type { TlsaRecord } from '../dns/tlsa-record.js';
import { TlsError } from '../tls/errors.js';
import type { ReferenceIdentity } from '../tls/identity.js';
import { parseTlsaRecord } from '../tls/tlsa.js';
import { verifyDane } from '../tls/verify-peer.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { parseTimeOption, printVerdict, readCertificates, readTrustStore, requireSubcommand } from './tls-command-input.js';

const USAGE = `usage: sipsec dane verify --tlsa "U S M HEX" [--tlsa ...] --chain FILE.pem [--name NAME ...]
                         [--ca FILE.pem ...] [--time UNIX] [--json]
  DANE verdict (RFC 6698, RFC 7671) of a chain against TLSA records taken as DNSSEC-secure, offline.
  --tlsa "U S M HEX"  a TLSA record in presentation form (repeatable): usage, selector, matching type, data
  --chain FILE.pem    the chain as the server sends it, leaf first
  --name NAME         a reference identity (repeatable): the SRV target host and/or the SIP domain.
                      DANE-EE ignores names; DANE-TA, PKIX-TA and PKIX-EE need one to match
  --ca FILE.pem       PKIX roots for usages 0 and 1 (repeatable); default: Node's bundled roots
  --time UNIX         verify at this time (seconds since 1970); default: now
  --json              print the verdict as JSON
exit: 0 authenticated, 1 not authenticated, 2 usage error`;

export const daneCommand: Command = {
  name: 'dane',
  summary: 'dane verify: DANE verdict of a certificate chain against TLSA records',
  usage: USAGE,
  async run(argv, io) {
    const rest = requireSubcommand(argv, 'verify', 'dane');
    const { values, positionals } = parseCommandArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        tlsa: { type: 'string', multiple: true },
        chain: { type: 'string' },
        name: { type: 'string', multiple: true },
        ca: { type: 'string', multiple: true },
        time: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.chain === undefined) throw new UsageError('--chain is required');
    if (values.tlsa === undefined || values.tlsa.length === 0) throw new UsageError('at least one --tlsa is required');
    const records: TlsaRecord[] = values.tlsa.map((text) => {
      try {
        return parseTlsaRecord(text);
      } catch (err) {
        if (err instanceof TlsError) throw new UsageError(`--tlsa: ${err.message}`, { cause: err });
        throw err;
      }
    });
    const time = parseTimeOption(values.time);
    const chain = await readCertificates(values.chain, '--chain');
    const trustStore = await readTrustStore(values.ca);
    // A name given on the command line may be either a SIP domain or an SRV host: accept both forms.
    const references: ReferenceIdentity[] = (values.name ?? []).flatMap((name) => [
      { name, kind: 'sip-domain' as const },
      { name, kind: 'host' as const },
    ]);
    const verdict = verifyDane({ chain, records, references, trustStore, time });
    return printVerdict(verdict, values.json === true, io);
  },
};

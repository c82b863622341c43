import type { TlsaRecord } from '../dns/tlsa-record.js';
import { TlsError } from '../tls/errors.js';
import type { ReferenceIdentity } from '../tls/identity.js';
import { parseTlsaRecord } from '../tls/tlsa.js';
import { verifyDane } from '../tls/verify-peer.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import {
  InputReader, checkChainOrder, hostNameOption, parseTimeOption, printVerdict, requireSubcommand, singleOption,
} from './tls-command-input.js';

const USAGE = `usage: sipsec dane verify --tlsa RECORD [--tlsa ...] --chain FILE [--name NAME ...]
                         [--ca FILE|DIR|system ...] [--time UNIX] [--json]
  DANE verdict (RFC 6698, RFC 7671) of a chain against TLSA records taken as DNSSEC-secure, offline.
  --tlsa RECORD  a TLSA record (repeatable): "3 1 1 HEX", "DANE-EE SPKI SHA2-256 HEX" (RFC 7218
                 mnemonics), or the whole line that 'sipsec tlsa generate' or dig prints
  --chain FILE   the chain as the server sends it, leaf first; PEM or DER, '-' for standard input
  --name NAME    a reference identity (repeatable): the SRV target host and/or the SIP domain;
                 IDNs are taken as A-labels. DANE-EE ignores names; DANE-TA, PKIX-TA and PKIX-EE
                 need one to match
  --ca FILE      PKIX anchors for usages 0 and 1 (repeatable): a file, a directory, 'system', '-';
                 default: Node's bundled roots
  --time UNIX    verify at this time (seconds since 1970); default: now
  --json         print the verdict as one JSON document
exit: 0 authenticated, 1 not authenticated, 2 usage or input error`;

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
        chain: { type: 'string', multiple: true },
        name: { type: 'string', multiple: true },
        ca: { type: 'string', multiple: true },
        time: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const chainFile = singleOption(values.chain, '--chain', 'one chain file (leaf first, then its issuers)');
    if (chainFile === undefined) throw new UsageError('--chain is required');
    if (values.tlsa === undefined || values.tlsa.length === 0) throw new UsageError('at least one --tlsa is required');
    const records: TlsaRecord[] = values.tlsa.map((text) => {
      try {
        return parseTlsaRecord(text);
      } catch (err) {
        if (err instanceof TlsError) throw new UsageError(`--tlsa: ${err.message}`, { cause: err });
        throw err;
      }
    });
    const names = (values.name ?? []).map((name) => hostNameOption(name, '--name'));
    const time = parseTimeOption(singleOption(values.time, '--time', 'one time'));
    const input = new InputReader();
    const chain = await input.certificates(chainFile, '--chain');
    checkChainOrder(chain, chainFile, io);
    const trustStore = await input.trustStore(values.ca, io);
    // A name given on the command line may be either a SIP domain or an SRV host: accept both forms.
    const references: ReferenceIdentity[] = names.flatMap((name) => [
      { name, kind: 'sip-domain' as const },
      { name, kind: 'host' as const },
    ]);
    const verdict = verifyDane({ chain, records, references, trustStore, time });
    if (verdict.reasons.some((r) => r.code === 'no-reference-identity')) {
      io.stderr(`sipsec dane verify: a ${verdict.dane?.match?.usage ?? 'TLSA'} record matched, and it needs the name the certificate is for: give --name HOST (the SRV target) and/or --name DOMAIN (the SIP domain)\n`);
    }
    return printVerdict('dane', verdict, values.json === true, io);
  },
};

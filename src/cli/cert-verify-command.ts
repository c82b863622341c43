import { verifyRfc5922 } from '../tls/verify-peer.js';
import { TLS_LIMITS } from '../limits.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { parseIntegerOption, parseTimeOption, printVerdict, readCertificates, readTrustStore, requireSubcommand } from './tls-command-input.js';

const USAGE = `usage: sipsec cert verify --chain FILE.pem --domain SIPDOMAIN [--ca FILE.pem ...] [--time UNIX]
                         [--max-depth N] [--allow-wildcard] [--json]
  The RFC 5922 and PKIX verdict on a certificate chain, offline.
  --chain FILE.pem  the chain as the server sends it, leaf first
  --domain NAME     the SIP domain of the request URI (the reference identity)
  --ca FILE.pem     trusted roots (repeatable); default: Node's bundled root certificates
  --time UNIX       verify at this time (seconds since 1970); default: now
  --max-depth N     largest depth of the trust anchor, leaf = 0 (default ${TLS_LIMITS.maxChainDepth})
  --allow-wildcard  let one left-most '*' label of a dNSName match (RFC 5922 forbids it)
  --json            print the verdict as JSON
exit: 0 authenticated, 1 not authenticated, 2 usage error`;

export const certCommand: Command = {
  name: 'cert',
  summary: 'cert verify: RFC 5922 and PKIX verdict on a certificate chain',
  usage: USAGE,
  async run(argv, io) {
    const rest = requireSubcommand(argv, 'verify', 'cert');
    const { values, positionals } = parseCommandArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        chain: { type: 'string' },
        domain: { type: 'string' },
        ca: { type: 'string', multiple: true },
        time: { type: 'string' },
        'max-depth': { type: 'string' },
        'allow-wildcard': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.chain === undefined) throw new UsageError('--chain is required');
    if (values.domain === undefined || values.domain === '') throw new UsageError('--domain is required');
    const time = parseTimeOption(values.time);
    const maxChainDepth = parseIntegerOption('--max-depth', values['max-depth'], 1, 100);
    const chain = await readCertificates(values.chain, '--chain');
    const trustStore = await readTrustStore(values.ca);
    const verdict = verifyRfc5922({
      chain,
      sipDomain: values.domain,
      trustStore,
      time,
      policy: { allowWildcard: values['allow-wildcard'] === true, ...(maxChainDepth !== undefined ? { maxChainDepth } : {}) },
    });
    return printVerdict(verdict, values.json === true, io);
  },
};

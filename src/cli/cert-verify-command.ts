import { verifyRfc5922 } from '../tls/verify-peer.js';
import { TLS_LIMITS } from '../limits.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import {
  InputReader, checkChainOrder, hostNameOption, parseIntegerOption, parseTimeOption, printVerdict, requireSubcommand, singleOption,
} from './tls-command-input.js';

const USAGE = `usage: sipsec cert verify --chain FILE --domain SIPDOMAIN [--ca FILE|DIR|system ...] [--time UNIX]
                         [--max-depth N] [--allow-wildcard] [--json]
  The RFC 5922 and PKIX verdict on a certificate chain, offline.
  --chain FILE      the chain as the server sends it, leaf first; PEM or DER, '-' for standard input
  --domain NAME     the SIP domain of the request URI (the reference identity); an IDN is taken as A-labels
  --ca FILE         trust anchors (repeatable): a PEM or DER file, a directory of them, 'system' for the
                    operating system's CA bundle, '-'; any certificate given is an anchor, an
                    intermediate too. Default: Node's bundled root certificates
  --time UNIX       verify at this time (seconds since 1970); default: now
  --max-depth N     largest depth of the trust anchor, leaf = 0 (default ${TLS_LIMITS.maxChainDepth});
                    openssl's -verify_depth N-1 allows the same chains
  --allow-wildcard  let one left-most '*' label of a dNSName match (RFC 5922 forbids it)
  --json            print the verdict as one JSON document
exit: 0 authenticated, 1 not authenticated, 2 usage or input error`;

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
        chain: { type: 'string', multiple: true },
        domain: { type: 'string', multiple: true },
        ca: { type: 'string', multiple: true },
        time: { type: 'string', multiple: true },
        'max-depth': { type: 'string', multiple: true },
        'allow-wildcard': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const chainFile = singleOption(values.chain, '--chain', 'one chain file (leaf first, then its issuers)');
    const domainValue = singleOption(values.domain, '--domain', 'the one SIP domain');
    if (chainFile === undefined) throw new UsageError('--chain is required');
    if (domainValue === undefined || domainValue === '') throw new UsageError('--domain is required');
    const domain = hostNameOption(domainValue, '--domain');
    const time = parseTimeOption(singleOption(values.time, '--time', 'one time'));
    const maxChainDepth = parseIntegerOption('--max-depth', singleOption(values['max-depth'], '--max-depth', 'one depth'), 1, 100);
    const input = new InputReader();
    const chain = await input.certificates(chainFile, '--chain');
    checkChainOrder(chain, chainFile, io);
    const trustStore = await input.trustStore(values.ca, io);
    const verdict = verifyRfc5922({
      chain,
      sipDomain: domain,
      trustStore,
      time,
      policy: { allowWildcard: values['allow-wildcard'] === true, ...(maxChainDepth !== undefined ? { maxChainDepth } : {}) },
    });
    return printVerdict('cert', verdict, values.json === true, io);
  },
};

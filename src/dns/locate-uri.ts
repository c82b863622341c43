import type { SipUri } from '../sip/uri.js';
import { DnsError } from './errors.js';
import type { LocateInput } from './locator.js';

/** The locator's input from a parsed sip: or sips: URI (src/sip/uri.ts): host, port, transport and maddr. */
export function locateInputOf(uri: SipUri): LocateInput {
  const transport = uri.param('transport');
  const maddr = uri.param('maddr');
  if (transport === null) throw new DnsError('DNS_ERR_BAD_TARGET', 'transport parameter without a value');
  if (maddr === null) throw new DnsError('DNS_ERR_BAD_TARGET', 'maddr parameter without a value');
  return {
    scheme: uri.scheme,
    host: uri.host,
    hostKind: uri.hostKind,
    ...(uri.port === undefined ? {} : { port: uri.port }),
    ...(transport === undefined ? {} : { transport }),
    ...(maddr === undefined ? {} : { maddr }),
  };
}

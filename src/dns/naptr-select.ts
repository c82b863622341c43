import type { NaptrRecord } from './records.js';
import { isTlsTransport, transportOfNaptrService, type SipTransport } from './sip-transport.js';

/** A NAPTR record that survived selection, with the transport it stands for. */
export interface SelectedNaptr {
  readonly record: NaptrRecord;
  readonly transport: SipTransport;
}

/**
 * RFC 3263 section 4.1 and RFC 3403 section 4.1: keeps the records whose flag is "s" (the next
 * lookup is SRV), whose service is SIP or SIPS over a transport the client supports, and for a
 * SIPS URI only SIPS services; sorts by order, then preference.
 *
 * All surviving records are kept, not only those of the first order: the later ones give the
 * failover list (a TLS requirement above decides whether a non-TLS target may be used).
 */
export function selectNaptr(
  records: readonly NaptrRecord[], scheme: 'sip' | 'sips', supported: readonly SipTransport[],
): SelectedNaptr[] {
  const selected: SelectedNaptr[] = [];
  for (const record of records) {
    if (record.flags.toLowerCase() !== 's' || record.replacement === '') continue;
    const transport = transportOfNaptrService(record.services);
    if (transport === undefined || !supported.includes(transport)) continue;
    if (scheme === 'sips' && !isTlsTransport(transport)) continue;
    selected.push({ record, transport });
  }
  return selected.sort((a, b) => a.record.order - b.record.order || a.record.preference - b.record.preference);
}

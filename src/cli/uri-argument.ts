import { toAsciiHostName } from '../tls/host-name.js';
import { UsageError } from './command.js';

/**
 * A SIP URI as typed on a command line, with an internationalized host (U-labels, `bücher.example`)
 * turned into A-labels (`xn--bcher-kva.example`) first: SIP URIs carry host names in ASCII (RFC 3261
 * section 25.1), and `cert verify`, `dane verify` and `tlsa generate` read names the same way
 * (toAsciiHostName), so one name gives one answer in every command. Text that is ASCII already is
 * returned as it is, for the URI parser to judge.
 */
export function asciiUriArgument(text: string): string {
  if (isAscii(text)) return text;
  const colon = text.indexOf(':');
  if (colon < 0) return text;
  const at = text.indexOf('@', colon + 1);
  const hostStart = at < 0 ? colon + 1 : at + 1;
  let hostEnd = hostStart;
  while (hostEnd < text.length && !':;?>'.includes(text[hostEnd] as string)) hostEnd++;
  const host = text.slice(hostStart, hostEnd);
  if (isAscii(host)) return text;
  const reading = toAsciiHostName(host);
  if (!reading.ok) throw new UsageError(`the host ${JSON.stringify(host)} ${reading.why}`);
  return `${text.slice(0, hostStart)}${reading.ascii}${text.slice(hostEnd)}`;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

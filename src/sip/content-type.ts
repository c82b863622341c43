import { HeaderScanner, type HeaderParam } from './header-scanner.js';

/** Content-Type (RFC 3261 section 20.15): media type, subtype (lower-cased) and parameters. */
export interface ContentType {
  readonly type: string;
  readonly subtype: string;
  readonly params: readonly HeaderParam[];
}

export function parseContentType(text: string): ContentType {
  const s = new HeaderScanner(text, 'content-type');
  const type = s.token('a media type').toLowerCase();
  s.expect('/', 'between media type and subtype');
  const subtype = s.token('a media subtype').toLowerCase();
  const params = s.params();
  s.end('the media type');
  return { type, subtype, params };
}

/**
 * The user name a request's digest credentials claimed, for the log of a failed authentication:
 * an operator must see which account someone is guessing at (the wire never says whether it
 * exists). Bounded, so that a peer's bytes cannot fill a log line.
 */
import type { AuthValue } from '../sip/auth-headers.js';

const MAX_NAME_CHARS = 128;

export function claimedUsername(credentials: readonly AuthValue[]): string | undefined {
  for (const value of credentials) {
    const raw = value.params.find((p) => p.name.toLowerCase() === 'username')?.value;
    if (raw === undefined || raw === null) continue;
    const name = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
    return name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}...` : name;
  }
  return undefined;
}

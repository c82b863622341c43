import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stateless digest nonces (RFC 7616 section 3.3 leaves the construction to the server):
 * base64url( issued-at seconds (8 bytes) || random || HMAC-SHA-256(secret, tag || issued-at || random || realm)[0..16) ).
 * Any process holding the secret can check a nonce another one issued; nothing is stored.
 */
const MAC_BYTES = 16;
const TIME_BYTES = 8;
const DOMAIN_TAG = Buffer.from('sipsec digest nonce v1\0');

export type NonceCheck =
  | { readonly status: 'valid'; readonly issuedAtSeconds: number }
  /** Made by a holder of the secret for this realm, but older than the lifetime or dated in the future. */
  | { readonly status: 'expired'; readonly issuedAtSeconds: number }
  /** Not a nonce of ours for this realm: garbled, forged, or issued for another realm. */
  | { readonly status: 'invalid' };

export interface NonceTiming {
  readonly lifetimeSeconds: number;
  readonly clockSkewSeconds: number;
}

function mac(secret: Uint8Array, body: Uint8Array, realm: string): Buffer {
  return createHmac('sha256', secret).update(DOMAIN_TAG).update(body).update(realm, 'utf8').digest().subarray(0, MAC_BYTES);
}

export function issueNonce(secret: Uint8Array, realm: string, nowMs: number, random: Uint8Array): string {
  const body = Buffer.alloc(TIME_BYTES + random.length);
  body.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000)), 0);
  body.set(random, TIME_BYTES);
  return Buffer.concat([body, mac(secret, body, realm)]).toString('base64url');
}

export function checkNonce(secret: Uint8Array, realm: string, nonce: string, nowMs: number, timing: NonceTiming): NonceCheck {
  // Base64url only: Buffer.from would skip other characters and accept a variant spelling.
  if (!/^[A-Za-z0-9_-]+$/.test(nonce) || nonce.length > 128) return { status: 'invalid' };
  const bytes = Buffer.from(nonce, 'base64url');
  if (bytes.length <= TIME_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce) return { status: 'invalid' };
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  if (!timingSafeEqual(bytes.subarray(bytes.length - MAC_BYTES), mac(secret, body, realm))) return { status: 'invalid' };
  const issuedAtSeconds = Number(body.readBigUInt64BE(0));
  const nowSeconds = Math.floor(nowMs / 1000);
  const fresh = issuedAtSeconds <= nowSeconds + timing.clockSkewSeconds && nowSeconds - issuedAtSeconds <= timing.lifetimeSeconds;
  return { status: fresh ? 'valid' : 'expired', issuedAtSeconds };
}

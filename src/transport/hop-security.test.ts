import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadPolicyError } from '../tls/errors.js';
import { resolveTlsPolicy } from '../tls/policy.js';
import { HopSecurityResolver } from './hop-security.js';
import { TransportConfigError, type SecurityRequirement } from './transport-context.js';

// Certificates are compared by their PEM text only: these need not be real.
const certA = { cert: '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n', key: 'key A' };
const certB = { cert: '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n', key: 'key B' };

test('hop security: the reuse key is equal exactly when a connection may carry both sends', () => {
  const resolver = new HopSecurityResolver(resolveTlsPolicy(), certA);
  const key = (r?: SecurityRequirement): string => resolver.resolve(r).reuseKey;
  // Absent fields are the layer's defaults; naming the default certificate (another object) is the same.
  assert.equal(key(), key({}));
  assert.equal(key(), key({ clientCertificate: { ...certA } }));
  assert.equal(key(), key({ tls: 'required' }));
  assert.equal(key({ acceptedIdentities: ['B.example.', 'a.example'] }), key({ acceptedIdentities: ['a.example', 'b.example'] }));
  assert.equal(key({ tlsPolicy: { dane: true } }), key());
  // Each of these asks for something a connection opened under the defaults did not prove.
  const others = [key({ clientCertificate: certB }), key({ clientCertificate: 'none' }), key({ tlsPolicy: { dane: false } }), key({ acceptedIdentities: ['b.example'] })];
  assert.equal(new Set([key(), ...others]).size, others.length + 1);
});

test('hop security: the resolved requirement fills in the defaults, and is resolved once per object', () => {
  const resolver = new HopSecurityResolver(resolveTlsPolicy({ allowWildcard: true }), undefined);
  const requirement: SecurityRequirement = { tls: 'required', clientCertificate: certB, tlsPolicy: { dane: false } };
  const resolved = resolver.resolve(requirement);
  assert.equal(resolved.tlsRequired, true);
  assert.equal(resolved.clientCertificate, certB);
  assert.equal(resolved.policy.dane, false);
  assert.equal(resolved.policy.allowWildcard, true);
  assert.equal(resolver.resolve(requirement), resolved);
  assert.equal(resolver.resolve(undefined).tlsRequired, false);
  assert.equal(resolver.resolve(undefined).clientCertificate, undefined);
});

test('hop security: a malformed requirement is refused naming its field', () => {
  const resolver = new HopSecurityResolver(resolveTlsPolicy(), undefined);
  const field = (r: unknown): string | undefined => {
    try {
      resolver.resolve(r as SecurityRequirement);
      return undefined;
    } catch (err) {
      return err instanceof TransportConfigError ? err.option : err instanceof BadPolicyError ? 'tlsPolicy' : String(err);
    }
  };
  assert.equal(field({ tls: 'always' }), 'security.tls');
  assert.equal(field({ clientCertificate: { cert: 'x' } }), 'security.clientCertificate');
  assert.equal(field({ acceptedIdentities: 'b.example' }), 'security.acceptedIdentities');
  assert.equal(field({ acceptedIdentities: [''] }), 'security.acceptedIdentities');
  assert.equal(field({ tlsPolicy: { mode: 'loose' } }), 'tlsPolicy');
  assert.equal(field({ tls: 'preferred', acceptedIdentities: [] }), undefined);
});

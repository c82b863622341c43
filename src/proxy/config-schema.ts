/**
 * The shape of the proxy's YAML configuration (docs/PROXY.md "Configuration"), checked with zod:
 * types, enumerations and unknown keys. What needs the file system or more than one key (files
 * readable, certificates covering their domain, listen URLs, the location URL) is checked after
 * this, in config.ts, on the value this schema returns.
 */
import { z } from 'zod';
import { AUTH_LIMITS, DNS_LIMITS, LOCATION_LIMITS, REGISTRAR_LIMITS, SIP_LIMITS, TLS_LIMITS, TRANSPORT_LIMITS, TX_LIMITS, TX_TIMERS } from '../limits.js';
import { DIGEST_ALGORITHMS } from '../registrar/digest.js';
import { unknownKeyMessage } from './config-issues.js';

/**
 * An object whose keys must all be known: every unknown key is its own issue at its own path
 * (zod's strictObject reports them together, at the parent), with the closest known key.
 * Checked whatever else is wrong in the object, so that one run names every fault.
 */
function strict<S extends z.ZodRawShape>(shape: S, unknownMessage: (key: string) => string = (key) => unknownKeyMessage(key, Object.keys(shape))) {
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) ctx.addIssue({ code: 'custom', path: [key], message: unknownMessage(key), params: { unknownKey: true } });
      }
    },
    { when: () => true },
  );
}

/** A section that may be left empty (`trust:` with nothing under it reads as null). */
function section<T extends z.ZodType>(schema: T) {
  return schema.nullish();
}

const fileName = z.string().min(1, 'must name a file');

/** Overrides of one family of src/limits.ts, by its own names: each > 0, whole where the default is. */
function limitFamily(defaults: Readonly<Record<string, number>>) {
  const shape: Record<string, z.ZodOptional<z.ZodNumber>> = {};
  for (const [name, value] of Object.entries(defaults)) {
    const number = z.number().positive('must be > 0');
    shape[name] = (Number.isInteger(value) ? number.int('must be a whole number') : number).optional();
  }
  return section(strict(shape, (key) => unknownKeyMessage(key, Object.keys(shape), 'limit')));
}

/** The families of src/limits.ts the proxy uses, by the name they have under `limits:`. */
export const LIMIT_FAMILIES = {
  sip: SIP_LIMITS,
  tls: TLS_LIMITS,
  dns: DNS_LIMITS,
  transport: TRANSPORT_LIMITS,
  transaction: TX_LIMITS,
  auth: AUTH_LIMITS,
  registrar: REGISTRAR_LIMITS,
  location: LOCATION_LIMITS,
} as const;

const timersShape: Record<string, z.ZodOptional<z.ZodNumber>> = {};
for (const name of Object.keys(TX_TIMERS)) timersShape[name] = z.number().nonnegative('must be >= 0 milliseconds').optional();

/** pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const listenEntry = z.union([
  z.string(),
  strict({
    url: z.string(),
    advertise: z.string().min(1, 'must not be empty').optional(),
  }),
]);

export const proxyConfigSchema = strict({
  domains: z.record(z.string(), strict({ certificate: fileName, key: fileName })),
  listen: z.array(listenEntry).min(1, 'needs at least one listener'),
  trust: section(strict({ ca: z.array(fileName).optional(), system: z.boolean().optional() })),
  dns: section(strict({ unbound: fileName.optional() })),
  users: fileName.optional(),
  auth: section(
    strict({
      algorithms: z.array(z.enum(DIGEST_ALGORITHMS as readonly ['SHA-256', 'MD5'], 'must be SHA-256 or MD5')).min(1, 'needs at least one algorithm').optional(),
      'secret-file': fileName.optional(),
    }),
  ),
  location: z.string().optional(),
  'outbound-source': z.enum(['listener', 'system'], 'must be listener or system').optional(),
  log: section(strict({ level: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).optional(), format: z.enum(['json', 'text'], 'must be json or text').optional() })),
  limits: section(strict(Object.fromEntries(Object.entries(LIMIT_FAMILIES).map(([name, defaults]) => [name, limitFamily(defaults)])), (key) => unknownKeyMessage(key, Object.keys(LIMIT_FAMILIES), 'limit family'))),
  timers: section(strict(timersShape, (key) => unknownKeyMessage(key, Object.keys(timersShape), 'timer'))),
  // The hop-security policies (docs/PROXY.md "Policies"); contracts.ts DEFAULT_HOP_POLICIES holds the defaults.
  policy: section(
    strict(
      {
        'mutual-tls': z.boolean().optional(),
        peers: section(z.record(z.string().min(1, 'must name a certificate identity'), z.array(z.string().min(1, 'must name a domain')))),
        'reverse-dns': z.boolean().optional(),
        'via-trail': z.boolean().optional(),
        'promote-sips': z.boolean().optional(),
        'require-dnssec': z.boolean().optional(),
        'require-dane': z.boolean().optional(),
        'connection-reuse': z.boolean().optional(),
      },
      (key) => unknownKeyMessage(key, ['mutual-tls', 'peers', 'reverse-dns', 'via-trail', 'promote-sips', 'require-dnssec', 'require-dane', 'connection-reuse'], 'policy'),
    ),
  ),
});

export type ProxyConfigInput = z.infer<typeof proxyConfigSchema>;

/**
 * The registrar side of `sipsec proxy` against real components: SipStack instances over loopback
 * TCP (127.0.0.120 and up) for flows, and a redis-server this test starts on 127.0.0.78 (its own
 * address, so that the fixed port it restarts on is free of test/integration/location-redis) for
 * two instances sharing one backend and for the backend stopped and started mid-run.
 * Run under the integration lock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DigestAuthenticator } from '../../src/registrar/digest.js';
import { RedisLocationStore } from '../../src/registrar/location-redis.js';
import { SqliteLocationStore } from '../../src/registrar/location-sqlite.js';
import { LocationUnavailableError } from '../../src/registrar/errors.js';
import type { LocationStore } from '../../src/registrar/location-store.js';
import { parseUsersFile } from '../../src/registrar/users.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { buildResponse } from '../../src/transaction/local-response.js';
import { SipStack } from '../../src/ua/sip-stack.js';
import { redisServer } from '../support/redis-server.js';
import type { LocalDomains } from '../../src/proxy/contracts.js';
import { LocalUsersService } from '../../src/proxy/local-users.js';
import { RegisterClient, requestFrom, type Exchange } from '../../src/proxy/register-client.test.support.js';
import { RegisterHarness } from '../../src/proxy/register-harness.test.support.js';
import { domainOf, RegistrarService } from '../../src/proxy/registrar-service.js';
import type { RegistrationLogger } from '../../src/proxy/registration-log.js';

const SERVER = '127.0.0.120';
const CLIENT = '127.0.0.121';
const REDIS_HOST = '127.0.0.78';
const REDIS_PORT = 6379;
const REDIS_URL = `redis://${REDIS_HOST}:${REDIS_PORT}/0`;

const USERS = parseUsersFile('bob@b.test: { password: "secret" }\n', 'users.yaml').users;
const DOMAINS: LocalDomains = { isLocal: (h) => domainOf(h) === 'b.test' };
const SECRET = Buffer.from('proxy-registrar-integration-key!');
const BOB = parseSipUri('sip:bob@b.test');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-proxy-registrar-'));
const redis = redisServer(REDIS_HOST, REDIS_PORT, dir);

before(() => redis.start());
after(async () => {
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function service(store: LocationStore, log?: RegistrationLogger): RegistrarService {
  return new RegistrarService({ users: USERS, authenticator: new DigestAuthenticator({ secret: SECRET }), store, localDomains: DOMAINS, ...(log === undefined ? {} : { log }) });
}

/** A client SipStack's exchange: one client transaction per request, resolved with its final response. */
function stackExchange(stack: SipStack, port: number): Exchange {
  return (request: SipRequest) =>
    new Promise<SipResponse>((resolve) => {
      stack.transactions.sendRequest(request, { transport: 'tcp', address: SERVER, port }, {
        onResponse: (response) => {
          if (response.status >= 200) resolve(response);
        },
      });
    });
}

test('over TCP: the binding records the flow, a request reaches the UA over it, and once the connection closes LocalUsers answers 480 (430 for an outbound flow) at once', async () => {
  const store = new SqliteLocationStore({ path: path.join(dir, 'tcp.db'), sweepIntervalMs: 0 });
  const registrar = service(store);
  // What TransportLayer.hasConnection will answer: connections seen carrying requests, until closed.
  const open = new Set<string>();
  const server = await SipStack.start({
    listeners: [{ transport: 'tcp', address: SERVER, port: 0 }],
    tu: () => ({
      onRequest: (tx, request, context) => {
        if (context.connectionId !== undefined) open.add(context.connectionId);
        void registrar.handleRegister(tx, request, context);
      },
    }),
    onConnectionClosed: (id) => open.delete(id),
  });
  const port = server.listening()[0]?.port ?? 0;
  const users = new LocalUsersService({ users: USERS, store, isConnectionOpen: (id) => open.has(id) });
  try {
    for (const outbound of [false, true]) {
      const received: string[] = [];
      const client = await SipStack.start({
        tu: () => ({
          onRequest: (tx, request) => {
            received.push(request.method);
            tx.respond(buildResponse(request, 200, 'OK', { toTag: 'ua' }));
          },
        }),
      });
      const contact = outbound
        ? ['Contact: <sip:bob@10.0.0.4:5060;transport=tcp;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>";reg-id=1', 'Supported: outbound']
        : ['Contact: <sip:bob@10.0.0.4:5060;transport=tcp>'];
      const ua = new RegisterClient({ address: 'bob@b.test', password: 'secret', via: { transport: 'TCP', host: CLIENT } }, stackExchange(client, port));
      const ok = await ua.register({ headers: [...contact, 'Expires: 600'] });
      assert.equal(ok.status, 200);
      if (outbound) assert.deepEqual(ok.headerValues('require'), ['outbound']);
      const found = await users.lookup(BOB, { sipsOnly: false });
      assert.equal(found.kind, 'targets', JSON.stringify(found));
      if (found.kind !== 'targets') return;
      const target = found.targets[0];
      const flow = target?.destination.connectionId;
      assert.ok(flow !== undefined && open.has(flow));
      // The NATed Contact (10.0.0.4) is not where the request goes: the flow is.
      const options = requestFrom([
        `OPTIONS ${target?.uri.toString() ?? ''} SIP/2.0`,
        `Via: SIP/2.0/TCP ${SERVER}:${port};branch=z9hG4bK-flow-${String(outbound)}`,
        'Max-Forwards: 70',
        'To: <sip:bob@b.test>',
        'From: <sip:registrar@b.test>;tag=r1',
        `Call-ID: flow-${String(outbound)}@${SERVER}`,
        'CSeq: 1 OPTIONS',
      ]);
      const answered = await new Promise<number>((resolve) => {
        server.transactions.sendRequest(options, target?.destination ?? { transport: 'tcp', address: SERVER, port }, { onResponse: (r) => r.status >= 200 && resolve(r.status) });
      });
      assert.equal(answered, 200);
      assert.deepEqual(received, ['OPTIONS']);
      await client.close({ force: true });
      // The server sees the close; from then on the look-up answers without waiting for anything.
      while (open.has(flow)) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(await users.lookup(BOB, { sipsOnly: false }), { kind: 'unavailable', status: outbound ? 430 : 480, why: 'flow-failed' });
      await store.remove('bob@b.test');
    }
  } finally {
    await server.close({ force: true });
    await store.close();
  }
});

test('Redis: two instances on one Redis see each other\'s bindings; Redis stopped gives 500 with Retry-After and store-failed; restarted, the next REGISTER succeeds and nothing was lost', async () => {
  const limits = { redisCommandTimeoutMs: 500, redisMaxReconnectDelayMs: 200 };
  const storeA = await RedisLocationStore.open({ url: REDIS_URL, keyPrefix: 'pr:', limits });
  const storeB = await RedisLocationStore.open({ url: REDIS_URL, keyPrefix: 'pr:', limits });
  const logs: string[] = [];
  const a = new RegisterHarness(service(storeA, (_level, event) => logs.push(event)));
  const b = new RegisterHarness(service(storeB));
  const source = { transport: 'udp' as const, remote: { address: '192.0.2.4', port: 40_000 } };
  const viaA = new RegisterClient({ address: 'bob@b.test', password: 'secret', via: { transport: 'UDP', host: '192.0.2.4' } }, a.exchange(source));
  const viaB = new RegisterClient({ address: 'bob@b.test', password: 'secret', via: { transport: 'UDP', host: '192.0.2.5' } }, b.exchange({ ...source, remote: { address: '192.0.2.5', port: 40_001 } }));
  const usersB = new LocalUsersService({ users: USERS, store: storeB, isConnectionOpen: () => false });
  try {
    assert.equal((await viaA.register({ headers: ['Contact: <sip:bob@10.0.0.4>', 'Expires: 600'] })).status, 200);
    // B sees A's binding, in a REGISTER query and in a look-up (UDP behind NAT: the received address).
    const query = await viaB.register();
    assert.deepEqual(query.fields('contact').map((f) => f.value.replace(/expires=\d+/, 'expires=N')), ['<sip:bob@10.0.0.4>;expires=N']);
    const found = await usersB.lookup(BOB, { sipsOnly: false });
    assert.deepEqual(found.kind === 'targets' && found.targets.map((t) => t.destination), [{ transport: 'udp', address: '192.0.2.4', port: 40_000 }]);
    // And A sees B's.
    assert.equal((await viaB.register({ headers: ['Contact: <sip:bob@10.0.0.5>', 'Expires: 600'] })).status, 200);
    assert.equal((await viaA.register()).fields('contact').length, 2);

    await redis.stop();
    const failed = await viaA.register({ headers: ['Contact: <sip:bob@10.0.0.6>', 'Expires: 600'] });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.headerValues('retry-after'), ['5']);
    assert.ok(logs.includes('location-unavailable'));
    const lookupDown = await usersB.lookup(BOB, { sipsOnly: false });
    assert.equal(lookupDown.kind, 'store-failed');

    await redis.start();
    // The store's client reconnects by itself; wait until it has (the test's timeout bounds this).
    for (;;) {
      try {
        await storeA.get('bob@b.test');
        break;
      } catch (err) {
        if (!(err instanceof LocationUnavailableError)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const back = await viaA.register({ headers: ['Contact: <sip:bob@10.0.0.6>', 'Expires: 600'] });
    assert.equal(back.status, 200);
    assert.deepEqual(back.fields('contact').map((f) => /<([^>]+)>/.exec(f.value)?.[1]).sort(), ['sip:bob@10.0.0.4', 'sip:bob@10.0.0.5', 'sip:bob@10.0.0.6']);
  } finally {
    await a.close();
    await b.close();
    await storeA.close();
    await storeB.close();
  }
});

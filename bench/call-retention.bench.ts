/**
 * What one call through the proxy core keeps in memory after it ends: N calls (INVITE, 100, 180,
 * 200, ACK, BYE, 200) from a caller stack through an in-process ProxyCore to a callee stack, over
 * real UDP sockets on loopback, then the retained JS heap per call after forced collections, twice:
 * while the proxy's transactions sit in their post-final waits (Timer L for the INVITE, Timer J
 * for the BYE, both 64*T1 = 32 s at the default T1), and once they have ended.
 *
 * The caller and callee run with short timers (T1 = 5 ms) so that their own transactions are gone
 * long before the proxy's: what stays is the proxy's. The proxy runs with the default timers.
 *
 * Run after a build: `node --expose-gc dist/bench/call-retention.bench.js`
 * (SIPSEC_BENCH_CALLS sets N, default 2000; SIPSEC_BENCH_SKIP_END=1 skips the 33 s wait for the end;
 * SIPSEC_BENCH_SNAPSHOT=file writes a heap snapshot during the waits).
 * It prints its figures; nothing is written to docs/ (docs/BENCHMARKS.md quotes them by hand).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import type { LocalTarget, OutboundRouter } from '../src/proxy/contracts.js';
import { ProxyCore } from '../src/proxy/proxy-core.js';
import { SipRequest, type SipResponse } from '../src/sip/message.js';
import { parseSipUri } from '../src/sip/uri.js';
import { buildResponse } from '../src/transaction/local-response.js';
import type { Destination } from '../src/transport/transport-context.js';
import { newBranch, newCallId, newTag } from '../src/ua/identifiers.js';
import { SipStack } from '../src/ua/sip-stack.js';

const CALLS = Number(process.env.SIPSEC_BENCH_CALLS ?? 2000);
/** Calls placed at once; enough to keep the loopback busy, few enough that no datagram is lost. */
const CONCURRENCY = 20;
const SKIP_END = process.env.SIPSEC_BENCH_SKIP_END === '1';
/** A file to write a heap snapshot to while the calls are in their post-final waits. */
const SNAPSHOT = process.env.SIPSEC_BENCH_SNAPSHOT;
const PROXY_ADDRESS = '127.0.0.220';
const CALLER_ADDRESS = '127.0.0.221';
const CALLEE_ADDRESS = '127.0.0.222';
const DOMAIN = 'bench.test';
/** The user agents' timers: their transactions end within a second, the proxy's do not. */
const UA_TIMERS = { t1Ms: 5, t4Ms: 5 } as const;
const quiet = (): void => undefined;
const SDP = Buffer.from(
  ['v=0', `o=user1 53655765 2353687637 IN IP4 ${CALLER_ADDRESS}`, 's=-', `c=IN IP4 ${CALLER_ADDRESS}`, 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n'),
);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await sleep(20);
  }
  const usage = process.memoryUsage();
  // Buffers (a parsed message's bytes, a body) live outside the JS heap: count them too.
  return usage.heapUsed + usage.arrayBuffers;
}

function onlyPort(stack: SipStack): number {
  return stack.listening()[0]?.port ?? 0;
}

async function main(): Promise<void> {
  const callee = await SipStack.start({
    listeners: [{ transport: 'udp', address: CALLEE_ADDRESS, port: 0 }],
    log: quiet,
    transactions: { timers: UA_TIMERS },
    tu: () => ({
      onRequest: (tx, request) => {
        const toTag = newTag();
        if (request.method === 'INVITE') {
          tx.respond(buildResponse(request, 180, 'Ringing', { toTag }));
          const ok = buildResponse(request, 200, 'OK', { toTag });
          ok.addHeader('contact', `<sip:uas@${CALLEE_ADDRESS}:${onlyPort(callee)};transport=udp>`);
          for (const rr of request.fields('record-route')) ok.addHeader('record-route', rr.value);
          ok.setBody(SDP, 'application/sdp');
          tx.respond(ok);
          return;
        }
        tx.respond(buildResponse(request, 200, 'OK', { toTag }));
      },
    }),
  });
  const target: LocalTarget = {
    uri: parseSipUri(`sip:uas@${CALLEE_ADDRESS}:${onlyPort(callee)};transport=udp`),
    destination: { transport: 'udp', address: CALLEE_ADDRESS, port: onlyPort(callee) },
    path: [], q: undefined, instanceId: undefined,
  };
  const router: OutboundRouter = { destinations: () => Promise.reject(new Error('the bench routes to its local user only')) };
  const proxy = await ProxyCore.start({
    stack: { listeners: [{ transport: 'udp', address: PROXY_ADDRESS, port: 0 }], log: quiet },
    advertisedNames: [{ transport: 'udp', address: PROXY_ADDRESS, name: DOMAIN }],
    localDomains: { isLocal: (host) => host.toLowerCase() === DOMAIN },
    localUsers: { lookup: () => Promise.resolve({ kind: 'targets', targets: [target] }) },
    registrar: { handleRegister: () => Promise.reject(new Error('no REGISTER in this bench')) },
    authorizer: { authorize: () => ({ kind: 'authorized', user: 'caller' }) },
    outbound: router,
  });
  const caller = await SipStack.start({
    listeners: [{ transport: 'udp', address: CALLER_ADDRESS, port: 0 }],
    log: quiet,
    transactions: { timers: UA_TIMERS },
    tu: () => ({}),
  });
  const toProxy: Destination = { transport: 'udp', address: PROXY_ADDRESS, port: onlyPort(proxy.stack) };
  const callerPort = onlyPort(caller);
  const layer = proxy.stack.transactions;

  function send(request: SipRequest): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      caller.transactions.sendRequest(request, toProxy, {
        onResponse: (response) => {
          if (response.status < 200) return;
          if (response.status < 300) resolve(response);
          else reject(new Error(`${request.method}: ${response.status} ${response.reason}`));
        },
      });
    });
  }

  function inDialog(method: string, cseq: number, callId: string, from: string, ok: SipResponse): SipRequest {
    const contact = ok.contacts()[0];
    if (contact === undefined || !('uri' in contact)) throw new Error('200 without Contact');
    const request = new SipRequest(method, contact.uri);
    request.addHeader('via', `SIP/2.0/UDP ${CALLER_ADDRESS}:${callerPort};branch=${newBranch()};rport`);
    request.addHeader('max-forwards', '70');
    for (const rr of [...ok.headerValues('record-route')].reverse()) request.addHeader('route', rr);
    request.addHeader('from', from);
    request.addHeader('to', ok.header('to') ?? '');
    request.addHeader('call-id', callId);
    request.addHeader('cseq', `${cseq} ${method}`);
    request.addHeader('content-length', '0');
    return request;
  }

  async function call(): Promise<void> {
    const callId = newCallId(CALLER_ADDRESS);
    const from = `<sip:caller@caller.test>;tag=${newTag()}`;
    const invite = new SipRequest('INVITE', parseSipUri(`sip:uas@${DOMAIN}`));
    invite.addHeader('via', `SIP/2.0/UDP ${CALLER_ADDRESS}:${callerPort};branch=${newBranch()};rport`);
    invite.addHeader('from', from);
    invite.addHeader('to', `<sip:uas@${DOMAIN}>`);
    invite.addHeader('call-id', callId);
    invite.addHeader('cseq', '1 INVITE');
    invite.addHeader('contact', `<sip:caller@${CALLER_ADDRESS}:${callerPort};transport=udp>`);
    invite.addHeader('max-forwards', '70');
    invite.setBody(SDP, 'application/sdp');
    const ok = await send(invite);
    const ack = inDialog('ACK', 1, callId, from, ok);
    await caller.transactions.sendStateless(ack, toProxy);
    await send(inDialog('BYE', 2, callId, from, ok));
  }

  async function calls(n: number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        await call();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  // Warm-up: code compiled, pools and maps grown; then wait until those calls have ended.
  const warm = Math.min(200, CALLS);
  await calls(warm);
  await waitForIdle();
  const base = await settledHeap();
  await calls(CALLS);
  await sleep(500); // the user agents' own transactions end (their timers are short)
  const waiting = await settledHeap();
  if (SNAPSHOT !== undefined) process.stderr.write(`heap snapshot: ${writeHeapSnapshot(SNAPSHOT)}\n`);
  const during = { heap: waiting - base, tx: layer.size, contexts: proxy.contextCount, messages: layer.retainedBytes };
  let after: { heap: number; tx: number; contexts: number } | undefined;
  if (!SKIP_END) {
    await waitForIdle();
    after = { heap: (await settledHeap()) - base, tx: layer.size, contexts: proxy.contextCount };
  }
  const line = (label: string, heap: number, tx: number, contexts: number): string =>
    `${label}: ${Math.round(heap / CALLS)} bytes per call retained (JS heap and buffers) (${(heap / 1e6).toFixed(1)} MB), ${tx} proxy transactions, ${contexts} response contexts`;
  process.stdout.write(`node ${process.version}, ${CALLS} calls (INVITE 100 180 200 ACK BYE 200) through ProxyCore over loopback UDP, ${CONCURRENCY} at a time\n`);
  process.stdout.write(`${line('in the post-final waits', during.heap, during.tx, during.contexts)}; messages counted by retainedBytes: ${Math.round(during.messages / CALLS)} bytes per call\n`);
  if (after !== undefined) process.stdout.write(`${line('after every transaction ended', after.heap, after.tx, after.contexts)}\n`);
  await caller.close({ force: true });
  await proxy.close({ force: true });
  await callee.close({ force: true });

  async function waitForIdle(): Promise<void> {
    while (layer.size > 0 || proxy.contextCount > 0 || caller.transactions.size > 0 || callee.transactions.size > 0) await sleep(250);
  }
}

await main();

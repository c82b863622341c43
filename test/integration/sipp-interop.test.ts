import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../support/paths.js';
import { freePort } from '../../src/lab/free-port.js';
import { runSipp } from '../support/sipp.js';
import { Responder } from '../../src/ua/responder.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { SipRequest } from '../../src/sip/message.js';

const SCENARIO = path.join(REPO_ROOT, 'test', 'integration', 'fixtures', 'sipp-options-uas.xml');

for (const [transport, flag] of [['udp', 'u1'], ['tcp', 't1']] as const) {
  test(`SIPp as UAC: 5 calls (INVITE, ACK, BYE) to the sipsec responder over ${transport}`, async () => {
    const answered: Array<{ method: string; status: number }> = [];
    const responder = await Responder.start({
      listeners: [{ transport, address: '127.0.0.1', port: 0 }],
      log: () => undefined,
      onAnswered: (request: SipRequest, status: number) => answered.push({ method: request.method, status }),
    });
    try {
      const port = responder.listening()[0]?.port ?? 0;
      const sipp = runSipp(['-sn', 'uac', '-m', '5', '-r', '20', '-t', flag, '-i', '127.0.0.1', '-p', String(await freePort()), `127.0.0.1:${port}`, '-timeout', '30', '-timeout_error', '-d', '50']);
      const run = await sipp.done;
      assert.equal(run.code, 0, run.output.slice(-2000));
      assert.match(run.output, /Successful call\s+\|\s+\d+\s+\|\s+5\b/);
      assert.equal(answered.filter((a) => a.method === 'INVITE' && a.status === 200).length, 5);
      assert.equal(answered.filter((a) => a.method === 'BYE' && a.status === 200).length, 5);
    } finally {
      await responder.close();
    }
  });

  test(`SIPp as UAS: sipsec options gets 200 OK over ${transport}`, async () => {
    const port = await freePort();
    const sipp = runSipp(['-sf', SCENARIO, '-t', flag, '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-timeout', '30', '-timeout_error']);
    try {
      const out: string[] = [];
      let code = -1;
      // SIPp binds shortly after start: retry the first send a few times rather than sleep.
      for (let attempt = 0; attempt < 20 && code !== 0; attempt++) {
        out.length = 0;
        code = await runCli(['options', '--json', '--timeout', '2000', '--to', `127.0.0.1:${port}`, `sip:sipp@127.0.0.1;transport=${transport}`], {
          stdout: (t) => void out.push(t),
          stderr: (t) => void out.push(t),
        });
      }
      assert.equal(code, 0, out.join(''));
      const result = JSON.parse(out.join('')) as { response: { status: number; headers: Array<[string, string]> } };
      assert.equal(result.response.status, 200);
      assert.ok(result.response.headers.some(([name, value]) => name === 'Server' && value === 'SIPp'));
      const run = await sipp.done;
      assert.equal(run.code, 0, run.output.slice(-2000));
    } finally {
      sipp.kill();
    }
  });
}

/** Readiness probes for DNS daemons started on loopback: tools for demos and tests on one machine. */
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

/** Sends one SOA query for `zone` to 127.0.0.1:port; true when any answer comes back. */
export function probeDns(port: number, zone: string, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'SOA', name: zone, class: 'IN' }] });
    const timer = setTimeout(() => finish(false), waitMs);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    }
    socket.on('error', () => finish(false));
    socket.on('message', () => finish(true));
    socket.send(query, port, '127.0.0.1');
  });
}

/** Polls until the daemon answers, or fails when it exits or after 100 tries. */
export async function waitForDnsServer(port: number, zone: string, child: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (spawnError !== undefined) throw new Error(`${what} could not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
    }
    if (await probeDns(port, zone, 100)) return;
  }
  throw new Error(`${what} did not answer on port ${port}: ${stderr}`);
}

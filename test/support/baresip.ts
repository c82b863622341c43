/**
 * Debian's baresip (package baresip-core) as a real SIP user agent in tests: one account that
 * registers through an outbound proxy (over TLS in the proxy tests), answers calls by itself, and
 * plays a tone from a WAV file instead of a sound card. Its console output is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

// ESC [ ... m, built from its code so the pattern holds no control character.
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export interface BaresipOptions {
  /** The address-of-record, e.g. `carol@a.trap.test`. */
  readonly aor: string;
  readonly password: string;
  /** `tls`, `tcp` or `udp`: the account's transport. */
  readonly transport: 'tls' | 'tcp' | 'udp';
  /** The outbound proxy, e.g. `sip:127.0.0.141:5061;transport=tls`. */
  readonly outbound: string;
  /** The local address baresip binds (it listens for UDP, TCP and TLS there). */
  readonly listen: string;
  /** PEM of the CA that issued the proxy's certificate. */
  readonly caPem: string;
  /** Registration interval in seconds; default 600. */
  readonly regintS?: number;
  /** Print every SIP message sent and received (`baresip -s`), for failure messages. */
  readonly sipTrace?: boolean;
}

export interface RunningBaresip {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the output matches, rejects after `timeoutMs` or when baresip exits. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startBaresip(options: BaresipOptions): Promise<RunningBaresip> {
  const dir = await mkdtemp(join(os.tmpdir(), 'sipsec-baresip-'));
  await writeFile(join(dir, 'ca.pem'), options.caPem);
  await writeFile(join(dir, 'tone.wav'), toneWav());
  await writeFile(join(dir, 'config'), [
    'poll_method\t\tepoll',
    `sip_listen\t\t${options.listen}`,
    `sip_cafile\t\t${join(dir, 'ca.pem')}`,
    'call_local_timeout\t120',
    // No sound card on a test machine: a tone as microphone, files as speaker and ringer.
    `audio_player\t\taufile,${join(dir, 'heard.wav')}`,
    // Not ausine: in baresip 1.0 it runs only at 48 kHz, and a G.711 call at 8 kHz then fails to
    // start its source and is never answered ("ausine: supports only 48kHz samplerate").
    `audio_source\t\taufile,${join(dir, 'tone.wav')}`,
    `audio_alert\t\taufile,${join(dir, 'alert.wav')}`,
    'module_path\t\t/usr/lib/baresip/modules',
    'module\t\t\tg711.so',
    'module\t\t\taufile.so',
    'module_tmp\t\tuuid.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    '',
  ].join('\n'));
  const account = `<sip:${options.aor};transport=${options.transport}>;auth_pass=${options.password};answermode=auto;` +
    `outbound="${options.outbound}";regint=${options.regintS ?? 600}`;
  await writeFile(join(dir, 'accounts'), `${account}\n`);

  // Line-buffered: piped, baresip's stdout is block-buffered and its last lines (a call's end) can
  // sit in the buffer while a test waits for them.
  const child = spawn('stdbuf', ['-oL', '-eL', 'baresip', '-f', dir, ...(options.sipTrace === true ? ['-s'] : [])], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const wakers = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    // Colour escapes make patterns brittle: drop them.
    output += chunk.toString().replace(COLOUR, '');
    for (const wake of wakers) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('exit', () => {
    exited = true;
    for (const wake of wakers) wake();
  });
  child.once('error', (err) => {
    output += `\nspawn failed: ${err.message}`;
    exited = true;
    for (const wake of wakers) wake();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = pattern.exec(output);
      if (found !== null) return settle(() => resolve(found[0]));
      if (exited) return settle(() => reject(new Error(`baresip exited before ${pattern}:\n${output.slice(-3000)}`)));
    };
    const timer = setTimeout(() => settle(() => reject(new Error(`baresip: no ${pattern} in ${timeoutMs} ms:\n${output.slice(-3000)}`))), timeoutMs);
    const settle = (then: () => void): void => {
      clearTimeout(timer);
      wakers.delete(check);
      then();
    };
    wakers.add(check);
    check();
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  return { child, output: () => output, waitFor, stop };
}

/** Two seconds of a 440 Hz tone as a WAV file: 8 kHz, mono, 16-bit PCM, the rate of G.711. */
function toneWav(): Buffer {
  const rate = 8000;
  const samples = rate * 2;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

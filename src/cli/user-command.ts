import fs from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, YAMLMap } from 'yaml';
import { credentialEntry, isUserAddress, parseUsersDocument, parseUsersFile, UsersFileError } from '../registrar/users.js';
import { EXIT_OK, EXIT_USAGE, parseCommandArgs, UsageError, type CliIo, type Command } from './command.js';
import { jsonDocument } from './json-output.js';

const USAGE = `usage: sipsec user add ADDRESS [--users FILE] [--realm REALM]
  Adds or replaces ADDRESS (user@domain) in the users file with its digest HA1 values
  (SHA-256 and MD5), keeping the rest of the file and its comments. The password is asked
  for on a terminal without echo, or read as one line from standard input; it is never written.
  --users FILE   the users file (default users.yaml); created when missing
  --realm REALM  the digest realm (default: the domain of ADDRESS, which is what sipsec proxy uses)
  --json         one JSON document (schema sipsec.user/1): {"schema","action","address","realm","file"}
exit: 0 written, 2 usage error or invalid users file`;

/** Where the password comes from: a prompt on a terminal, or one line of standard input. */
export type PasswordReader = (prompt: string) => Promise<string>;

/** Reads a password from the process's terminal without echo, or one line from a pipe. */
export const readPasswordFromStdin: PasswordReader = async (prompt) => {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write(prompt);
    return readHidden(stdin);
  }
  return readLine(stdin);
};

function readHidden(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        // Ctrl-C and Ctrl-D give up without writing anything.
        if (ch === '\u0003' || ch === '\u0004') return done(new UsageError('no password given'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readLine(stdin: NodeJS.ReadStream): Promise<string> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) {
    text += chunk as string;
    const end = text.indexOf('\n');
    if (end >= 0) {
      stdin.destroy();
      return text.slice(0, end).replace(/\r$/, '');
    }
  }
  return text;
}

async function readExisting(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new UsageError(`--users: cannot read ${file}: ${reason}`, { cause: err });
  }
}

/** Writes beside the file and renames, so that a crash leaves the old file or the new one, never half. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const mode = await fs.stat(file).then((s) => s.mode & 0o777, () => 0o600);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await fs.writeFile(temp, text, { mode });
  await fs.rename(temp, file);
}

/** Addresses are equal when the users are and the domains are, ignoring case. */
function sameAddress(a: string, b: string): boolean {
  const at = a.lastIndexOf('@');
  const bt = b.lastIndexOf('@');
  return a.slice(0, at) === b.slice(0, bt) && a.slice(at + 1).toLowerCase() === b.slice(bt + 1).toLowerCase();
}

export function makeUserCommand(readPassword: PasswordReader): Command {
  return {
    name: 'user',
    summary: 'add a user to a users file (digest HA1 values for sipsec proxy)',
    usage: USAGE,
    async run(argv: readonly string[], io: CliIo): Promise<number> {
      const { values, positionals } = parseCommandArgs({
        args: [...argv],
        allowPositionals: true,
        options: { users: { type: 'string' }, realm: { type: 'string' }, json: { type: 'boolean' } },
      });
      const [action, address, ...extra] = positionals;
      if (action !== 'add') throw new UsageError(action === undefined ? 'no action given' : `unknown action '${action}'`);
      if (address === undefined) throw new UsageError('no ADDRESS given');
      if (extra.length > 0) throw new UsageError(`unexpected '${extra.join(' ')}'`);
      if (!isUserAddress(address)) throw new UsageError(`'${address}' is not an address user@domain`);
      if (values.realm !== undefined && values.realm === '') throw new UsageError('--realm must not be empty');
      const file = values.users ?? 'users.yaml';
      const existing = await readExisting(file);
      // An invalid file is reported, not rewritten: the operator's other entries are at stake.
      try {
        if (existing !== undefined) parseUsersFile(existing, file);
      } catch (err) {
        if (!(err instanceof UsersFileError)) throw err;
        for (const issue of err.issues) io.stderr(`sipsec user: ${file}${issue.line === undefined ? '' : ` line ${issue.line}`}: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message}\n`);
        return EXIT_USAGE;
      }
      const password = await readPassword(`Password for ${address}: `);
      if (password === '') throw new UsageError('the password is empty');
      const { doc } = parseUsersDocument(existing ?? '', file);
      if (!isMap(doc.contents)) doc.contents = new YAMLMap();
      const entry = credentialEntry(address, password, values.realm);
      // The same address with its domain in another case is the same user: replace that key.
      const key = (doc.contents as YAMLMap).items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)).find((k) => sameAddress(k, address));
      const replaced = key !== undefined;
      // The entry's other keys (a forward target) stay: only the credentials are replaced.
      const previous = key === undefined ? undefined : doc.get(key);
      const forward: unknown = isMap(previous) ? previous.get('forward') : undefined;
      doc.set(key ?? address, doc.createNode(typeof forward === 'string' ? { ...entry, forward } : entry));
      await writeAtomically(file, doc.toString());
      const realm = values.realm ?? address.slice(address.lastIndexOf('@') + 1);
      io.stdout(values.json === true
        ? jsonDocument('user', { action: replaced ? 'updated' : 'added', address, realm, file })
        : `sipsec user: ${replaced ? 'updated' : 'added'} ${address} in ${file}\n`);
      return EXIT_OK;
    },
  };
}

export const userCommand = makeUserCommand(readPasswordFromStdin);

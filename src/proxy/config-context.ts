/**
 * What the checks of one config load share: the config file's place, the line locator, the faults
 * and warnings found so far, and reading the files the config names (relative to its directory).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { keyPathText, type ConfigIssue, type KeyPath, type YamlLocator } from './config-issues.js';

export class LoadContext {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: string[] = [];
  readonly notes: string[] = [];
  readonly directory: string;

  constructor(
    readonly file: string,
    readonly locator: YamlLocator,
    readonly now: Date,
  ) {
    this.directory = path.dirname(file);
  }

  /** A fault of the config file at a key path. */
  fail(at: KeyPath, message: string): void {
    this.issues.push({ file: this.file, line: this.locator.lineOf(at), path: keyPathText(at), message });
  }

  /** A warning, prefixed with where it comes from (`proxy.yaml:3: domains.a.test.key: ...`). */
  warn(at: KeyPath, message: string): void {
    const line = this.locator.lineOf(at);
    this.warnings.push(`${this.file}${line === undefined ? '' : `:${line}`}: ${keyPathText(at)}: ${message}`);
  }

  /** A file named in the config: relative names are relative to the config file's directory. */
  resolve(name: string): string {
    return path.isAbsolute(name) ? name : path.join(this.directory, name);
  }

  /** The bytes of a file the key at `at` names, or undefined with the fault recorded. */
  async read(at: KeyPath, name: string): Promise<{ file: string; bytes: Buffer } | undefined> {
    const file = this.resolve(name);
    try {
      return { file, bytes: await fs.readFile(file) };
    } catch (err) {
      this.fail(at, `cannot read ${file}: ${fsErrorText(err)}`);
      return undefined;
    }
  }

  /** A file holding a secret that others than its owner may read: a warning, not a fault. */
  async warnIfShared(at: KeyPath, file: string, what: string): Promise<void> {
    const mode = await fs.stat(file).then((s) => s.mode, () => undefined);
    if (mode !== undefined && (mode & 0o077) !== 0) {
      this.warn(at, `${file} holds ${what} and can be read by others than its owner (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); chmod 600 it`);
    }
  }
}

const FS_ERROR_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

/** An operator reads "no such file or directory (ENOENT)", not a bare errno name. */
export function fsErrorText(err: unknown): string {
  const code = errorCode(err);
  const words = FS_ERROR_WORDS[code];
  return words === undefined ? code : `${words} (${code})`;
}

export function errorCode(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : err instanceof Error ? err.message : 'unreadable';
}

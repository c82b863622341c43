import fs from 'node:fs/promises';
import { UsageError } from './command.js';

/**
 * Reads a file named on the command line; a missing or unreadable file is a usage error that
 * names the option (when there is one), the file and the system's reason (ENOENT, EACCES ...).
 */
export async function readInputFile(file: string, option?: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new UsageError(`${option === undefined ? '' : `${option}: `}cannot read ${file}: ${reason}`, { cause: err });
  }
}

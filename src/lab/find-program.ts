/** Finding the external programs the lab runs (nsd, unbound, ldns tools): tools for demos and tests on one machine. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path of a daemon or tool (`nsd`, `unbound`), looking in PATH and then in the sbin folders
 * that a normal user's PATH often lacks. Throws with the Debian package to install when missing.
 */
export function findProgram(name: string, debianPackage: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found: install the Debian package ${debianPackage} (scripts/setup.sh does)`);
}

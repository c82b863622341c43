/** The repository root, found from a compiled test file (dist/...) by walking up to package.json. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sipsec') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no sipsec package.json above ${from}`);
    dir = parent;
  }
}

/** The DANE test vectors (test/fixtures/dane), relative to the repository root. */
export function daneTestdataDir(): string {
  return path.resolve(repoRoot(), 'test', 'fixtures', 'dane');
}

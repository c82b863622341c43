import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, from dist/test/support/ or test/support/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..');

/** Test data taken from elsewhere, with its origin and licence (test/fixtures/README.md). */
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures');

export const TORTURE_DIR = path.join(FIXTURES_DIR, 'sip-torture');

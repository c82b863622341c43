import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, from dist/test/support/ or test/support/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..');

/** The team's shared folder beside the repository (../shared), as CI lays it out. */
export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');

export const TORTURE_DIR = path.join(SHARED_DIR, 'testdata', 'sip-torture');

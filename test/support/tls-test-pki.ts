/**
 * Moved to src/lab/certificates.ts (the demo issues its private CA with it too). This re-export
 * keeps the importers outside the lab move (src/transport tests, bench/) working until they switch.
 */
export * from '../../src/lab/certificates.js';

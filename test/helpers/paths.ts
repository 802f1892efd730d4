import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURE_SRC = path.join(ROOT, 'test', 'fixtures');
export const FIXTURE_BIN = path.join(ROOT, 'build', 'fixtures');
export const SIGRECEIVER = path.join(FIXTURE_BIN, 'sigreceiver');

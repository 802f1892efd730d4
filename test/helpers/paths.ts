import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURE_SRC = path.join(ROOT, 'test', 'fixtures');
// Outside build/: `node-gyp rebuild` (run by prebuildify) empties build/.
export const FIXTURE_BIN = path.join(ROOT, 'node_modules', '.cache', 'sigkit-test-fixtures');
export const SIGRECEIVER = path.join(FIXTURE_BIN, 'sigreceiver');
export const ZOMBIE_PARENT = path.join(FIXTURE_BIN, 'zombie-parent');
export const NAMED = path.join(FIXTURE_BIN, 'named');
export const SIGSENDER = path.join(FIXTURE_BIN, 'sigsender');
export const PREBUILD_DIR = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);

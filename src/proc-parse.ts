/**
 * Pure parsers for /proc text that the TypeScript layer reads itself
 * (`status`, `cmdline`) and the tty number decoder. No native imports, so
 * they are unit- and fuzz-tested on captured and hostile samples.
 */

/** The fields sigkit takes from /proc/<pid>/status. */
export interface StatusFields {
  /** Real, effective, saved and filesystem uids. */
  uids: [number, number, number, number] | null;
  gids: [number, number, number, number] | null;
  threads: number | null;
  /** VmRSS in KiB (exact, unlike stat's rss); null for kernel threads and zombies. */
  vmRssKiB: number | null;
  /** The five 64-bit masks as hex strings, bit n-1 = signal n. */
  masks: { SigPnd?: string; ShdPnd?: string; SigBlk?: string; SigIgn?: string; SigCgt?: string };
}

const MASK_KEYS = new Set(['SigPnd', 'ShdPnd', 'SigBlk', 'SigIgn', 'SigCgt']);
// The kernel prints every mask as 16 hex digits; anything else is truncated or foreign.
const HEX_MASK = /^[0-9a-fA-F]{16}$/;

function ids(value: string): [number, number, number, number] | null {
  const parts = value.trim().split(/\s+/).map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0)) return null;
  return parts as [number, number, number, number];
}

/**
 * Parses /proc/<pid>/status. The kernel escapes the Name field (a newline in
 * comm is written `\n`), so splitting lines is safe here, unlike in `stat`.
 * Unknown or malformed lines are ignored; missing fields stay null.
 */
export function parseStatus(text: string): StatusFields {
  const out: StatusFields = { uids: null, gids: null, threads: null, vmRssKiB: null, masks: {} };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Uid') out.uids = ids(value);
    else if (key === 'Gid') out.gids = ids(value);
    else if (key === 'Threads') {
      const n = Number(value);
      out.threads = Number.isInteger(n) && n >= 0 ? n : null;
    } else if (key === 'VmRSS') {
      const m = /^(\d+) kB$/.exec(value);
      out.vmRssKiB = m ? Number(m[1]) : null;
    } else if (MASK_KEYS.has(key) && HEX_MASK.test(value)) {
      out.masks[key as keyof StatusFields['masks']] = value;
    }
  }
  return out;
}

/** The signal numbers set in a hex mask (bit n-1 = signal n), ascending. */
export function maskToNumbers(hex: string | undefined): number[] {
  if (hex === undefined || !HEX_MASK.test(hex)) return [];
  const out: number[] = [];
  // Two 32-bit halves: exact without BigInt.
  const padded = hex.padStart(16, '0');
  const high = parseInt(padded.slice(0, 8), 16);
  const low = parseInt(padded.slice(8), 16);
  for (let bit = 0; bit < 32; bit++) if (low & (1 << bit)) out.push(bit + 1);
  for (let bit = 0; bit < 32; bit++) if (high & (1 << bit)) out.push(bit + 33);
  return out;
}

/** Splits /proc/<pid>/cmdline (NUL-separated, NUL-terminated) into arguments. */
export function parseCmdline(text: string): string[] {
  if (text === '') return [];
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

/** Names a tty_nr (dev_t, new encoding) as ps does: `pts/3`, `tty1`, `ttyS0`; null when 0. */
export function ttyName(ttyNr: number): string | null {
  if (!ttyNr) return null;
  const major = (ttyNr >>> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 0) return 'tty';
  if (major === 5 && minor === 1) return 'console';
  return `${major}:${minor}`;
}

/** ps's words for the state letters of /proc/<pid>/stat. */
export const STATE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  R: 'running',
  S: 'sleeping',
  D: 'disk sleep',
  Z: 'zombie',
  T: 'stopped',
  t: 'tracing stop',
  X: 'dead',
  x: 'dead',
  K: 'wakekill',
  W: 'waking',
  P: 'parked',
  I: 'idle',
});

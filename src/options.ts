/**
 * The one place every options bag is checked: an object (or undefined), and
 * no key the function does not know. A misspelt key (`{ timeout: 10 }` for
 * `timeoutMs`, `{ grace: 100 }` for `graceMs`) is an error naming the key and
 * the nearest known one, never a silently ignored wish.
 * Pure: never loads the native addon.
 */
import { invalidArgType, invalidArgValue } from './errors.js';

/** Levenshtein distance, small strings only (option names). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The known key closest to `key`: a prefix match first (`grace` -> `graceMs`),
 * else the smallest edit distance within half the key's length.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const prefix = known.find((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  if (prefix) return prefix;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 2)) ? best : undefined;
}

/**
 * Checks an options argument: `undefined` becomes `{}`; anything but a plain
 * object throws ERR_INVALID_ARG_TYPE; an own enumerable key outside `known`
 * throws ERR_INVALID_ARG_VALUE naming it (and the nearest known key).
 * Keys whose value is `undefined` are checked too: a typo is a typo.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE
 * @example
 * const o = checkOptions(opts, 'options', ['timeoutMs', 'signal']);
 */
export function checkOptions<T extends object>(opts: T | undefined | null | unknown, name: string, known: readonly string[]): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw invalidArgType(name, 'of type object', opts);
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    throw invalidArgValue(`${name}.${key}`, (opts as Record<string, unknown>)[key], `is not a known option${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`);
  }
  return opts as Partial<T>;
}

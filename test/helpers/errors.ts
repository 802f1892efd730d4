/** What a test reads off a thrown or rejected value. */
export type Caught = Record<string, unknown> & { name?: string; code?: string; message?: string };

/** The error `fn` throws; fails the test when it does not throw. */
export function errorOf(fn: () => unknown): Caught {
  try {
    fn();
  } catch (e) {
    return e as Caught;
  }
  throw new Error('did not throw');
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Caught> {
  try {
    await p;
  } catch (e) {
    return e as Caught;
  }
  throw new Error('did not reject');
}

/** The `code` of what `fn` throws, or undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/**
 * Polls `check` until it returns a value other than undefined/false, and returns it. When the deadline
 * passes first, it throws naming what it waited for: a wait that runs out fails the test instead of
 * letting the assertion after it run on nothing.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<T> {
  const { timeoutMs = 10_000, everyMs = 20 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

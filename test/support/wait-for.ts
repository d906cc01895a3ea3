/**
 * Polls until `check` returns a truthy value and returns it; throws naming `what` after the
 * timeout. Tests wait for outcomes with this instead of sleeping for a fixed time.
 */
export async function waitFor<T>(
  check: () => T | null | false | undefined | Promise<T | null | false | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= until) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

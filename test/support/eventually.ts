export interface EventuallyOptions {
  /** How long a failing wait lasts; a passing one returns as soon as the probe answers. */
  timeoutMs?: number;
  /** The pause between two tries. */
  intervalMs?: number;
  /** An error the probe throws that ends the wait at once (besides StopWaiting); any other counts as "not yet". */
  fatal?: (error: unknown) => boolean;
}

/** Thrown by a probe when waiting longer is pointless (the process it waits for has exited): it ends the wait at once. */
export class StopWaiting extends Error {}

/**
 * The e2e suites' one way to wait for something another process or a timer does: polls `probe` until it answers
 * something other than undefined or false, and returns that; fails after `timeoutMs` naming `what` and the probe's
 * last error. Never a fixed sleep: a passing test waits no longer than it must.
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: EventuallyOptions | number = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, fatal = () => false } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof StopWaiting || fatal(error)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : ` (last: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${last}`);
    }
    await pause(intervalMs);
  }
}

/** A deliberate wait (an outage that must last, a batch interval to pass): not for waiting on a condition. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

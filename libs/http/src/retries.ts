/**
 * The one retry loop of every call Reclaim makes to an outside system (store APIs, e-mail, SMS,
 * help desks, marketing profiles). Each caller says what an attempt came to; this loop decides
 * whether and how long to wait: exponential backoff with jitter that never waits less than the
 * server asked for (`Retry-After`, quota headers), a cap on attempts, on any single wait and on
 * all waits together. When it stops, the caller's `giveUp` turns the reason into its typed error
 * (the ports' `RetryableProviderError` carries the wait back to the engine, which reschedules
 * durably instead of sleeping). Sleep and randomness are injected, so tests run on fake time.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First backoff step; it doubles with each attempt and is jittered to 50–100 %. */
  readonly baseDelayMs: number;
  /** Cap of one backoff step (before jitter). */
  readonly maxDelayMs?: number;
  /** A single wait longer than this is not slept here: the call gives up and hands the wait back. */
  readonly maxWaitMs?: number;
  /** All waits of one call together, holds included: one that would go beyond gives up instead. */
  readonly maxTotalWaitMs?: number;
}

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryTiming {
  readonly sleep: Sleep;
  /** 0..1, for jitter. */
  readonly random: () => number;
}

/** An attempt that failed in a way worth repeating. */
export interface RetryableFailure {
  /** Short and free of personal data: `429`, `ECONNRESET`, `THROTTLED`. */
  readonly problem: string;
  /** The wait the server asked for, when it did. */
  readonly waitMs?: number;
  readonly status?: number;
}

export type AttemptResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: RetryableFailure };

export interface GiveUp {
  /** `attempts`: none left; `wait-too-long`: one wait beyond `maxWaitMs`; `budget`: beyond `maxTotalWaitMs`. */
  readonly why: 'attempts' | 'wait-too-long' | 'budget';
  /** Attempts made. */
  readonly attempts: number;
  readonly last: RetryableFailure;
  /** The wait that would have come next (absent when attempts ran out). */
  readonly nextWaitMs?: number;
}

export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Waits `ms` before sending (a quota known to be spent), charged to the total budget; `false`
   * (and no wait) when it would go beyond it.
   */
  hold(ms: number): Promise<boolean>;
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly timing: RetryTiming;
  /** The error to throw when the loop stops. */
  readonly giveUp: (g: GiveUp) => Error;
  /** Told before each wait (for logs). */
  readonly onRetry?: (failure: RetryableFailure, attempt: number, waitMs: number) => void;
}

/** The wait after `attempt` failed: jittered exponential backoff, never less than the server asked. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number, serverWaitMs?: number): number {
  const step = Math.min(policy.maxDelayMs ?? Infinity, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.ceil(Math.max(serverWaitMs ?? 0, step * (0.5 + random() / 2)));
}

/** Runs `attempt` until it succeeds, throws, or the policy says stop (then `giveUp`'s error). */
export async function withRetries<T>(
  attempt: (ctx: AttemptContext) => Promise<AttemptResult<T>>,
  options: RetryOptions,
): Promise<T> {
  const { policy, timing } = options;
  const maxAttempts = Math.max(1, policy.maxAttempts);
  const budget = policy.maxTotalWaitMs ?? Infinity;
  let waited = 0;
  const hold = async (ms: number): Promise<boolean> => {
    if (ms <= 0) return true;
    if (waited + ms > budget) return false;
    waited += ms;
    await timing.sleep(ms);
    return true;
  };
  for (let n = 1; ; n++) {
    const result = await attempt({ attempt: n, hold });
    if (result.ok) return result.value;
    const last = result.failure;
    if (n >= maxAttempts) throw options.giveUp({ why: 'attempts', attempts: n, last });
    const wait = backoffMs(policy, n, timing.random, last.waitMs);
    if (wait > (policy.maxWaitMs ?? Infinity))
      throw options.giveUp({ why: 'wait-too-long', attempts: n, last, nextWaitMs: wait });
    if (waited + wait > budget) throw options.giveUp({ why: 'budget', attempts: n, last, nextWaitMs: wait });
    options.onRetry?.(last, n, wait);
    waited += wait;
    await timing.sleep(wait);
  }
}

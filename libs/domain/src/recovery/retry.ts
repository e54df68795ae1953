import type { RecoveryConfig } from './config';

/** Exponential backoff (base * 2^(attempt-1), capped), never earlier than the provider's Retry-After. */
export function retryDelayMs(attempt: number, config: RecoveryConfig, retryAfterMs?: number): number {
  const exponential = Math.min(config.retryMaxDelayMs, config.retryBaseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(exponential, retryAfterMs ?? 0);
}

import { PermanentProviderError, ProviderOutcomeUnknownError, RetryableProviderError } from '@reclaim/ports';

/**
 * Failures a fake injects, in order, one per call: a 429 with Retry-After, a 5xx, a permanent
 * refusal, or a timeout — before the request reached the provider (`timeout-before`: nothing
 * happened) or after (`timeout-after`: it took effect, the caller cannot know).
 */
export type Fault =
  | { readonly kind: 'rate-limited'; readonly retryAfterMs?: number }
  | { readonly kind: 'server-error'; readonly status?: number }
  | { readonly kind: 'permanent'; readonly status?: number }
  | { readonly kind: 'timeout-before' }
  | { readonly kind: 'timeout-after' };

export class FaultPlan {
  private readonly queue: Fault[] = [];

  /** Queues `fault` for the next `times` calls. */
  add(fault: Fault, times = 1): this {
    for (let i = 0; i < times; i++) this.queue.push(fault);
    return this;
  }

  /** Fails every call from now on with `fault` (until `clear`). */
  always(fault: Fault): this {
    this.forever = fault;
    return this;
  }

  clear(): void {
    this.queue.length = 0;
    this.forever = undefined;
  }

  private forever: Fault | undefined;

  next(): Fault | undefined {
    return this.queue.shift() ?? this.forever;
  }
}

/** The error a fault raises before the call takes effect (undefined for `timeout-after`). */
export function errorBefore(fault: Fault): Error | undefined {
  switch (fault.kind) {
    case 'rate-limited':
      return new RetryableProviderError('429 Too Many Requests', fault.retryAfterMs, '429');
    case 'server-error':
      return new RetryableProviderError('server error', undefined, String(fault.status ?? 503));
    case 'permanent':
      return new PermanentProviderError('refused', String(fault.status ?? 400));
    case 'timeout-before':
      return new RetryableProviderError('connection refused', undefined, 'ECONNREFUSED');
    case 'timeout-after':
      return undefined;
  }
}

export function timeoutAfter(): ProviderOutcomeUnknownError {
  return new ProviderOutcomeUnknownError('timed out waiting for the provider');
}

import { RetryableProviderError } from '@reclaim/ports';
import { ProviderHttpClient } from './http-client';
import { PROVIDER_LIMITS, RateLimiter } from './rate-limiter';

function fakeTime(start = 1_700_000_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('RateLimiter', () => {
  it('lets a burst through, then makes callers wait for refill and reports the wait', async () => {
    const t = fakeTime();
    const waits: number[] = [];
    const limiter = new RateLimiter('gorgias', PROVIDER_LIMITS.gorgias, {
      ...t,
      onWait: (w) => waits.push(w.waitedMs),
    });
    for (let i = 0; i < 40; i++) await limiter.acquire();
    expect(t.sleeps).toEqual([]);
    await limiter.acquire();
    // 40 per 20 s = one token every 500 ms
    expect(t.sleeps).toEqual([500]);
    expect(waits).toEqual([500]);
  });

  it('applies every bucket: Klaviyo events 350/s burst and 3,500/min steady', async () => {
    const t = fakeTime();
    const limiter = new RateLimiter('klaviyo.events', PROVIDER_LIMITS.klaviyoEvents, t);
    const started = t.now();
    for (let i = 0; i < 3_501; i++) await limiter.acquire();
    const elapsed = t.now() - started;
    // 3,500 tokens cannot be spent in under ~(3500-350)/350 s by the burst bucket; the 3,501st waits for the minute bucket.
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
    expect(t.sleeps.length).toBeGreaterThan(0);
  });

  it('serves concurrent callers in order without failing any', async () => {
    const t = fakeTime();
    const limiter = new RateLimiter('twilio', [{ capacity: 2, intervalMs: 1000 }], t);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(t.sleeps.reduce((a, b) => a + b, 0)).toBe(1000);
  });
});

describe('ProviderHttpClient', () => {
  it('turns a refused connection into a retryable error after its retry budget', async () => {
    const t = fakeTime();
    const client = new ProviderHttpClient({
      provider: 'test',
      baseUrl: 'http://127.0.0.1:1',
      retry: { maxAttempts: 2 },
      sleep: t.sleep,
      now: t.now,
      random: () => 0.5,
    });
    await expect(
      client.request({ method: 'POST', path: '/x', operation: 'x', idempotent: false }),
    ).rejects.toBeInstanceOf(RetryableProviderError);
    expect(t.sleeps).toHaveLength(1);
    await client.close();
  });

  it('refuses a non-http base URL', () => {
    expect(() => new ProviderHttpClient({ provider: 'test', baseUrl: 'file:///etc/passwd' })).toThrow(/http/);
  });
});

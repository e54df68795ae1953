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

  it('window limits never start more than their capacity in any trailing window (Klaviyo profile groups 3/s, 60/min)', async () => {
    const t = fakeTime();
    const limiter = new RateLimiter('klaviyo.profile-groups', PROVIDER_LIMITS.klaviyoProfileGroups, t);
    const starts: number[] = [];
    // Concurrent callers, as two enrichments reading segments and lists at once.
    await Promise.all(Array.from({ length: 70 }, () => limiter.acquire().then(() => starts.push(t.now()))));
    expect(starts).toHaveLength(70);
    for (let i = 3; i < starts.length; i++) expect(starts[i]! - starts[i - 3]!).toBeGreaterThan(1_000);
    for (let i = 60; i < starts.length; i++) expect(starts[i]! - starts[i - 60]!).toBeGreaterThan(60_000);
    // The first three go at once: a window limit does not slow a burst it allows.
    expect(starts.slice(0, 3)).toEqual([starts[0], starts[0], starts[0]]);
    // A continuously refilled bucket of the same numbers lets a 4th through inside the first second.
    const b = fakeTime();
    const bucket = new RateLimiter('bucket', [{ capacity: 3, intervalMs: 1_000 }], b);
    const bucketStarts: number[] = [];
    for (let i = 0; i < 4; i++) await bucket.acquire().then(() => bucketStarts.push(b.now()));
    expect(bucketStarts[3]! - bucketStarts[0]!).toBeLessThan(1_000);
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

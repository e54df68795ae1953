import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffMs, neverSent, retryAfterMs, sendHttp, withRetries, type AttemptResult, type GiveUp } from '.';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('reads delta-seconds', () => {
    expect(retryAfterMs('5', now)).toBe(5000);
    expect(retryAfterMs(' 0.5 ', now)).toBe(500);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(retryAfterMs('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', new Date(now))).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('withRetries', () => {
  function fakeTiming(random = 1) {
    const sleeps: number[] = [];
    return { sleeps, timing: { sleep: async (ms: number) => void sleeps.push(ms), random: () => random } };
  }
  /** An attempt function answering from a script; `'ok'` succeeds, a number is a failure with that server wait. */
  function scripted(steps: ReadonlyArray<'ok' | number | undefined>) {
    let i = 0;
    return async (): Promise<AttemptResult<string>> => {
      const step = steps[i++];
      return step === 'ok'
        ? { ok: true, value: `done after ${i}` }
        : { ok: false, failure: { problem: '503', waitMs: step } };
    };
  }
  const giveUp = (g: GiveUp) => Object.assign(new Error(g.why), { g });

  it('backs off exponentially with jitter, capped per step, never under the server wait', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
    expect([1, 2, 3, 4].map((n) => backoffMs(policy, n, () => 1))).toEqual([100, 200, 300, 300]);
    expect(backoffMs(policy, 1, () => 0)).toBe(50);
    expect(backoffMs(policy, 1, () => 0, 2_000)).toBe(2_000);
  });

  it('retries until an attempt succeeds, sleeping the backoff or the server wait', async () => {
    const { sleeps, timing } = fakeTiming();
    const value = await withRetries(scripted([undefined, 1_500, 'ok']), {
      policy: { maxAttempts: 4, baseDelayMs: 100 },
      timing,
      giveUp,
    });
    expect(value).toBe('done after 3');
    expect(sleeps).toEqual([100, 1_500]);
  });

  it('gives up when attempts run out, with the last failure', async () => {
    const { sleeps, timing } = fakeTiming();
    const err = await withRetries(scripted([undefined, 700]), {
      policy: { maxAttempts: 2, baseDelayMs: 100 },
      timing,
      giveUp,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'attempts', g: { attempts: 2, last: { problem: '503', waitMs: 700 } } });
    expect(sleeps).toEqual([100]);
  });

  it('hands a wait longer than maxWaitMs back instead of sleeping it', async () => {
    const { sleeps, timing } = fakeTiming();
    const err = await withRetries(scripted([120_000]), {
      policy: { maxAttempts: 3, baseDelayMs: 100, maxWaitMs: 30_000 },
      timing,
      giveUp,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'wait-too-long', g: { attempts: 1, nextWaitMs: 120_000 } });
    expect(sleeps).toEqual([]);
  });

  it('keeps all waits of one call, holds included, within maxTotalWaitMs', async () => {
    const { sleeps, timing } = fakeTiming();
    const holds: boolean[] = [];
    const err = await withRetries<string>(
      async ({ hold }) => {
        holds.push(await hold(400));
        return { ok: false, failure: { problem: '429', waitMs: 500 } };
      },
      { policy: { maxAttempts: 5, baseDelayMs: 100, maxTotalWaitMs: 1_500 }, timing, giveUp },
    ).catch((e: unknown) => e);
    // hold 400 + wait 500, then hold 400 (1 300 in all); the next wait of 500 would make 1 800.
    expect(sleeps).toEqual([400, 500, 400]);
    expect(holds).toEqual([true, true]);
    expect(err).toMatchObject({ message: 'budget', g: { attempts: 2, nextWaitMs: 500 } });
  });

  it('lets an error thrown by an attempt through at once', async () => {
    const { sleeps, timing } = fakeTiming();
    await expect(
      withRetries(
        async () => {
          throw new Error('permanent');
        },
        { policy: { maxAttempts: 3, baseDelayMs: 100 }, timing, giveUp },
      ),
    ).rejects.toThrow('permanent');
    expect(sleeps).toEqual([]);
  });
});

describe('sendHttp', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('x-seen-method', req.method ?? '');
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain', 'X-Mixed-Case': 'yes' });
      res.end(`hello ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers status, lower-case headers and the body as text, whatever the status', async () => {
    await expect(
      sendHttp({ method: 'POST', url: `${base}/x`, body: '{}' }, { timeoutMs: 5_000 }),
    ).resolves.toMatchObject({
      status: 200,
      headers: { 'x-mixed-case': 'yes', 'x-seen-method': 'POST' },
      text: 'hello /x',
    });
    await expect(sendHttp({ method: 'GET', url: `${base}/missing` }, { timeoutMs: 5_000 })).resolves.toMatchObject({
      status: 404,
    });
  });

  it('tells a refused connection (never sent) from other failures', async () => {
    const refused = await sendHttp({ method: 'POST', url: 'http://127.0.0.1:1/x' }, { timeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );
    expect(neverSent(refused)).toBe(true);
    expect(neverSent(new Error('socket hang up'))).toBe(false);
  });
});

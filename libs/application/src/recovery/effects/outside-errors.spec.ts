/**
 * Outside errors of the effects: what a failed stock lookup becomes (a `store-unavailable` deferral
 * in words, with a back-off growing per consecutive deferral), and every port's failures counted
 * for `reclaim_provider_errors_total`.
 */
import {
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RecipientOptedOutError,
  RetryableProviderError,
  providerErrorKind,
  type CommercePort,
  type EffectMetrics,
  type ProviderMetrics,
  type RecoveryShop,
} from '@reclaim/ports';
import type { RecoveryEvent } from '@reclaim/domain';
import { CheckInventory } from './effect-commands';
import { EffectContext } from './effect-context';
import type { EffectRunnerDeps } from './effect-deps';
import { outsideRetryDelayMs } from './effect-deps';
import { CheckInventoryHandler, storeProblem } from './check-inventory.handler';
import { countingProviderErrors, ProviderMetricsRelay, withProviderErrorCounting } from './provider-error-counting';
import { consecutiveOutsideDeferrals } from './send-recovery-step.handler';
import type { LoadedRecovery } from '../recovery-stream';

const NOW = new Date('2025-03-03T08:00:00.000Z');
const SHOP: RecoveryShop = {
  id: 's',
  platform: 'bigcommerce',
  shopDomain: 'store-abc.mybigcommerce.com',
  currency: 'USD',
  timezone: 'UTC',
  apiUrl: 'https://api.store-missing.invalid/stores/abc',
  apiToken: 't',
};

class Recorded implements ProviderMetrics, EffectMetrics {
  readonly errors: string[] = [];
  effectRequest(): void {}
  send(): void {}
  rateLimitWait(): void {}
  providerError(provider: string, kind: string): void {
    this.errors.push(`${provider}:${kind}`);
  }
}

function inventory(stock: CommercePort['stock'], outsideRetry?: EffectRunnerDeps['outsideRetry']) {
  const deps = {
    clock: { now: () => NOW },
    commerce: { stock, createDiscountCode: () => Promise.reject(new Error('unused')) },
    ...(outsideRetry ? { outsideRetry } : {}),
  } as unknown as EffectRunnerDeps;
  return new CheckInventoryHandler(new EffectContext(deps));
}

const check = (deferrals: number) => new CheckInventory(SHOP, [], { recoveryId: 'recovery-s-c', step: 0, deferrals });

describe('a stock lookup that fails', () => {
  it('defers the step as store-unavailable, in words, from the first failure (DNS)', async () => {
    const dns = new RetryableProviderError(
      'stock: still failing after 4 attempt(s) (ENOTFOUND)',
      undefined,
      'ENOTFOUND',
    );
    const out = await inventory(() => Promise.reject(dns)).execute(check(0));
    expect(out).toEqual({
      kind: 'deferred',
      reason: 'store-unavailable',
      detail: 'store API unreachable (getaddrinfo ENOTFOUND api.store-missing.invalid)',
      until: new Date(NOW.getTime() + 60_000),
    });
  });

  it('waits longer with each consecutive deferral, up to the maximum, never less than Retry-After', async () => {
    const err = new RetryableProviderError('stock: 503', undefined, '503');
    const handler = inventory(() => Promise.reject(err), { firstMs: 10_000, maxMs: 35_000 });
    const waits = [];
    for (const n of [0, 1, 2, 3]) {
      const out = await handler.execute(check(n));
      if (out.kind !== 'deferred') throw new Error('not deferred');
      waits.push(out.until.getTime() - NOW.getTime());
      expect(out.detail).toBe('store API answered 503 (api.store-missing.invalid)');
    }
    expect(waits).toEqual([10_000, 20_000, 35_000, 35_000]);
    expect(outsideRetryDelayMs({ outsideRetry: { firstMs: 10_000, maxMs: 35_000 } }, 0, 90_000)).toBe(90_000);
  });

  it('defers on an error that is not a provider error too (never only a log line), and keeps the items when the store refuses for good', async () => {
    const odd = await inventory(() => Promise.reject(new TypeError('boom'))).execute(check(0));
    expect(odd).toMatchObject({ kind: 'deferred', reason: 'store-unavailable', detail: 'store API error (TypeError)' });
    const refused = await inventory(() => Promise.reject(new PermanentProviderError('401', 'auth-401'))).execute(
      check(0),
    );
    expect(refused).toEqual({ kind: 'skipped', reason: 'store-refused', lines: [] });
  });

  it('describes each kind of store failure', () => {
    const e = (code: string) => new RetryableProviderError('x', undefined, code);
    expect(storeProblem(e('ECONNREFUSED'), 'http://127.0.0.1:9/api')).toBe(
      'store API unreachable (ECONNREFUSED 127.0.0.1:9)',
    );
    expect(storeProblem(e('timeout'), SHOP.apiUrl)).toBe(
      'store API did not answer in time (timeout api.store-missing.invalid)',
    );
    expect(storeProblem(e('429'), SHOP.apiUrl)).toBe('store API rate limit (429)');
    expect(storeProblem(e('EREFUSED_OUTBOUND'), SHOP.apiUrl)).toBe(
      'store API address refused by the outbound guard (api.store-missing.invalid)',
    );
  });
});

describe('consecutive outside-error deferrals of a step', () => {
  const loaded = (events: Partial<RecoveryEvent>[]) => ({ events }) as unknown as LoadedRecovery;
  it('counts back over step-due and timers, stops at any other outcome of the step, ignores other steps', () => {
    const deferred = { type: 'recovery.step-deferred', step: 1, reason: 'store-unavailable' } as const;
    expect(
      consecutiveOutsideDeferrals(
        loaded([
          { type: 'recovery.step-deferred', step: 1, reason: 'store-unavailable' } as never,
          { type: 'recovery.message-failed', step: 1 } as never,
          { type: 'recovery.step-due', step: 1 } as never,
          deferred as never,
          { type: 'recovery.timer-scheduled', step: 1 } as never,
          { type: 'recovery.step-deferred', step: 0, reason: 'store-unavailable' } as never,
          { type: 'recovery.step-due', step: 1 } as never,
          deferred as never,
          { type: 'recovery.step-due', step: 1 } as never,
        ]),
        1,
      ),
    ).toBe(2);
    expect(
      consecutiveOutsideDeferrals(
        loaded([{ type: 'recovery.step-deferred', step: 1, reason: 'quiet-hours' } as never]),
        1,
      ),
    ).toBe(0);
  });
});

describe('provider errors counted (reclaim_provider_errors_total)', () => {
  it('names the kind of each outside failure', () => {
    expect(providerErrorKind(new RetryableProviderError('x', undefined, 'ENOTFOUND'))).toBe('unreachable');
    expect(providerErrorKind(new RetryableProviderError('smtp: ECONNECTION', undefined, 'smtp-ECONNECTION'))).toBe(
      'unreachable',
    );
    expect(providerErrorKind(new RetryableProviderError('smtp: deferred (421)', undefined, 'smtp-421'))).toBe(
      'retryable',
    );
    expect(providerErrorKind(new RetryableProviderError('x', 1000, '429'))).toBe('rate-limited');
    expect(providerErrorKind(new RetryableProviderError('x', undefined, '503'))).toBe('retryable');
    expect(providerErrorKind(new RecipientOptedOutError('x', '21610'))).toBe('opted-out');
    expect(providerErrorKind(new PermanentProviderError('x', '400'))).toBe('permanent');
    expect(providerErrorKind(new ProviderOutcomeUnknownError('x'))).toBe('outcome-unknown');
    expect(providerErrorKind(Object.assign(new Error('x'), { code: 'EREFUSED_OUTBOUND' }))).toBe('refused-address');
    expect(providerErrorKind(new TypeError('x'))).toBe('error');
  });

  it('counts every failing call of every port once, by provider, and passes results and errors through', async () => {
    const metrics = new Recorded();
    const relay = new ProviderMetricsRelay();
    relay.providerError('smtp', 'lost'); // nothing attached yet: not counted anywhere
    relay.attach(metrics);
    const fail = (err: Error) => () => Promise.reject(err);
    const deps = withProviderErrorCounting(
      {
        channels: {
          email: {
            send: fail(new RetryableProviderError('x', undefined, 'ECONNREFUSED')),
            lookup: async () => ({ status: 'not-sent' }),
          },
          sms: {
            send: fail(new RecipientOptedOutError('x', '21610')),
            lookup: fail(new ProviderOutcomeUnknownError('x')),
          },
        },
        commerce: {
          stock: fail(new RetryableProviderError('x', undefined, 'ENOTFOUND')),
          createDiscountCode: fail(new PermanentProviderError('x', 'auth-401')),
        },
        tickets: { open: fail(new RetryableProviderError('x', undefined, '503')) },
        profileSync: { push: fail(new TypeError('x')) },
      } as unknown as EffectRunnerDeps,
      relay,
      { email: 'smtp', sms: 'twilio', tickets: 'zendesk', profiles: 'klaviyo' },
    );
    const msg = { idempotencyKey: 'k', channel: 'email', to: 'x' } as const;
    await expect(deps.channels.email!.send(msg)).rejects.toBeInstanceOf(RetryableProviderError);
    await expect(deps.channels.email!.lookup('k')).resolves.toEqual({ status: 'not-sent' });
    await expect(deps.channels.sms!.send({ ...msg, channel: 'sms' })).rejects.toBeInstanceOf(RecipientOptedOutError);
    await expect(deps.channels.sms!.lookup('k')).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    await expect(deps.commerce.stock(SHOP, [])).rejects.toBeInstanceOf(RetryableProviderError);
    await expect(
      deps.commerce.createDiscountCode({
        idempotencyKey: 'k',
        shop: SHOP,
        percent: 10,
        expiresAt: NOW.toISOString(),
        cartId: 'c',
      }),
    ).rejects.toBeInstanceOf(PermanentProviderError);
    await expect(
      deps.tickets!.open({ idempotencyKey: 'k', shopId: 's', cartId: 'c', subject: 's', body: 'b' }),
    ).rejects.toThrow();
    await expect(
      deps.profileSync!.push('a@b.example', { segments: [], recoveryId: 'r', recoveryStatus: 'active', at: NOW }),
    ).rejects.toThrow();
    expect(metrics.errors).toEqual([
      'smtp:unreachable',
      'twilio:opted-out',
      'twilio:outcome-unknown',
      'store-bigcommerce:unreachable',
      'store-bigcommerce:permanent',
      'zendesk:retryable',
      'klaviyo:error',
    ]);
  });

  it('leaves a port without failures untouched', async () => {
    const metrics = new Recorded();
    const port = countingProviderErrors({ value: 3, twice: async (n: number) => n * 2 }, () => 'p', metrics);
    expect(port.value).toBe(3);
    await expect(port.twice(4)).resolves.toBe(8);
    expect(metrics.errors).toEqual([]);
  });
});

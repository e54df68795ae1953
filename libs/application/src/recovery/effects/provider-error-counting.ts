/**
 * Every outside call of every effect (store stock lookups, product categories and discount codes, e-mail and SMS sends
 * and reconciliation look-ups, tickets, profile pushes, enrichment reads) counted in `reclaim_provider_errors_total`
 * when it fails, from the first failure: the ports are wrapped once where the engine is built, so
 * no handler can forget it. The error itself goes on unchanged.
 */
import type { EffectMetrics, ProviderMetrics } from '@reclaim/ports';
import { providerErrorKind } from '@reclaim/ports';
import type { EffectRunnerDeps } from './effect-deps';

/**
 * A {@link ProviderMetrics} that forwards to the registry attached later (the engine is built
 * before the HTTP module that owns `/metrics`); nothing is counted before one is attached.
 */
export class ProviderMetricsRelay implements ProviderMetrics, EffectMetrics {
  private target: (ProviderMetrics & EffectMetrics) | undefined;

  attach(target: ProviderMetrics & EffectMetrics): void {
    this.target = target;
  }

  effectRequest(kind: string, outcome: 'deferred' | 'retried' | 'dropped'): void {
    this.target?.effectRequest(kind, outcome);
  }

  send(channel: string, outcome: string): void {
    this.target?.send(channel, outcome);
  }

  providerError(provider: string, kind: string): void {
    this.target?.providerError(provider, kind);
  }

  rateLimitWait(provider: string, waitedMs: number): void {
    this.target?.rateLimitWait(provider, waitedMs);
  }
}

/** `port` with each method's rejection counted under `provider(args)` (then rethrown as it was). */
export function countingProviderErrors<T extends object>(
  port: T,
  provider: (args: readonly unknown[]) => string,
  metrics: ProviderMetrics,
): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const count = (err: unknown) => {
          const kind = providerErrorKind(err);
          if (kind !== undefined) metrics.providerError(provider(args), kind);
        };
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          count(err);
          throw err;
        }
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            count(err);
            throw err;
          });
        }
        return result;
      };
    },
  });
}

/** The platform of the shop a store call is about (`stock(shop, …)`, `createDiscountCode({ shop, … })`). */
function storeProvider(args: readonly unknown[]): string {
  const first = args[0] as { platform?: unknown; shop?: { platform?: unknown } } | undefined;
  const platform = first?.platform ?? first?.shop?.platform;
  return `store-${typeof platform === 'string' ? platform : 'unknown'}`;
}

/**
 * The effect ports with their failures counted: `store-<platform>` for the store APIs, the
 * provider's name for the others (`names`: e.g. `{ email: 'smtp', sms: 'twilio', tickets: 'zendesk',
 * profiles: 'klaviyo' }`).
 */
export function withProviderErrorCounting(
  deps: EffectRunnerDeps,
  metrics: ProviderMetrics,
  names: {
    readonly email?: string;
    readonly sms?: string;
    readonly push?: string;
    readonly tickets?: string;
    readonly profiles?: string;
  } = {},
): EffectRunnerDeps {
  const channels: EffectRunnerDeps['channels'] = {};
  for (const [channel, port] of Object.entries(deps.channels) as [
    keyof EffectRunnerDeps['channels'],
    NonNullable<EffectRunnerDeps['channels']['email']>,
  ][]) {
    const name = names[channel] ?? channel;
    channels[channel] = countingProviderErrors(port, () => name, metrics);
  }
  return {
    ...deps,
    channels,
    commerce: countingProviderErrors(deps.commerce, storeProvider, metrics),
    ...(deps.tickets !== undefined
      ? { tickets: countingProviderErrors(deps.tickets, () => names.tickets ?? 'tickets', metrics) }
      : {}),
    ...(deps.supportLookup !== undefined
      ? { supportLookup: countingProviderErrors(deps.supportLookup, () => deps.supportLookup!.desk, metrics) }
      : {}),
    ...(deps.profileSync !== undefined
      ? { profileSync: countingProviderErrors(deps.profileSync, () => names.profiles ?? 'profiles', metrics) }
      : {}),
    ...(deps.enricher !== undefined
      ? { enricher: countingProviderErrors(deps.enricher, () => `${deps.enricher!.source}-enrichment`, metrics) }
      : {}),
    ...(deps.catalog !== undefined ? { catalog: countingProviderErrors(deps.catalog, storeProvider, metrics) } : {}),
  };
}

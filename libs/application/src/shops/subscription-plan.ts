import type { PlatformSubscription, WantedSubscription } from '@reclaim/ports';

/** How a wanted subscription stands on the platform. `manual`: the API cannot create it; the merchant does. */
export type SubscriptionState = 'ok' | 'missing' | 'drifted' | 'manual' | 'unchecked';

/** What differs on a drifted subscription. */
export type Drift = 'address' | 'format' | 'inactive' | 'secret';

export interface SubscriptionStatus {
  readonly topic: string;
  readonly address: string;
  readonly state: SubscriptionState;
  readonly drift?: readonly Drift[];
  /** The platform's id, when one is there. */
  readonly id?: string;
  /** For `manual` (and `missing` while the merchant manages subscriptions): what to do by hand. */
  readonly instructions?: string;
}

/**
 * Compares what the shop needs with what the platform has (pure). A subscription is the shop's
 * when it has the wanted topic and address, or when it is the one the appliance recorded for the
 * topic (so a changed PUBLIC_URL shows as a drifted address, not as missing).
 */
export function assessSubscriptions(
  wanted: readonly WantedSubscription[],
  existing: readonly PlatformSubscription[],
  recorded: Readonly<Record<string, string>>,
): SubscriptionStatus[] {
  return wanted.map((w) => {
    if (w.manual !== undefined)
      return { topic: w.topic, address: w.address, state: 'manual', instructions: w.manual } as const;
    const sameTopic = existing.filter((e) => e.topic === w.topic);
    const found = sameTopic.find((e) => e.address === w.address) ?? sameTopic.find((e) => e.id === recorded[w.topic]);
    if (found === undefined) return { topic: w.topic, address: w.address, state: 'missing' } as const;
    const drift: Drift[] = [];
    if (found.address !== w.address) drift.push('address');
    if (found.format !== 'json') drift.push('format');
    if (!found.active) drift.push('inactive');
    if (found.secret === 'other') drift.push('secret');
    return drift.length === 0
      ? ({ topic: w.topic, address: w.address, state: 'ok', id: found.id } as const)
      : ({ topic: w.topic, address: w.address, state: 'drifted', drift, id: found.id } as const);
  });
}

/**
 * The platform ids that are the shop's, for removal: every subscription delivering to one of the
 * wanted addresses, and every one the appliance recorded.
 */
export function ownedSubscriptionIds(
  wanted: readonly WantedSubscription[],
  existing: readonly PlatformSubscription[],
  recorded: Readonly<Record<string, string>>,
): string[] {
  const addresses = new Set(wanted.map((w) => w.address));
  const recordedIds = new Set(Object.values(recorded));
  return existing.filter((e) => addresses.has(e.address) || recordedIds.has(e.id)).map((e) => e.id);
}

import {
  DELIVERY_PROCESSOR,
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RECOVERY_FEED,
  RECOVERY_FEED_FILTER,
} from '@reclaim/application';
import { READ_MODEL_PROJECTIONS } from '../projections';
import type { SubscriptionRef } from './lag';

/** Every durable subscription of the appliance (whichever instance runs it), for lag metrics and /health. */
export function applianceSubscriptions(): SubscriptionRef[] {
  return [
    { name: DELIVERY_PROCESSOR, filter: { typePrefixes: ['webhook.received'] } },
    { name: RECOVERY_FEED, filter: RECOVERY_FEED_FILTER },
    { name: RECOVERY_EVENTS, filter: RECOVERY_EVENTS_FILTER },
    ...READ_MODEL_PROJECTIONS.map((p) => ({ name: p.subscription, filter: p.filter })),
  ];
}

export const DEFAULT_LAG_THRESHOLD = 1_000;

/** SUBSCRIPTION_LAG_THRESHOLD: pending events above which /health reports a subscription degraded. */
export function lagThresholdFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.SUBSCRIPTION_LAG_THRESHOLD;
  if (raw === undefined || raw === '') return DEFAULT_LAG_THRESHOLD;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new Error(`SUBSCRIPTION_LAG_THRESHOLD must be an integer from 1 to 100000, got "${raw}"`);
  }
  return n;
}

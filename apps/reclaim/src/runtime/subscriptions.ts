import {
  DELIVERY_PROCESSOR,
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RECOVERY_FEED,
  RECOVERY_FEED_FILTER,
} from '@reclaim/application';
import { READ_MODEL_PROJECTIONS, type SubscriptionRef } from '@reclaim/read-models';

/** Every durable subscription of the appliance (whichever instance runs it), for lag metrics and /health. */
export function applianceSubscriptions(enginePartitions: number): SubscriptionRef[] {
  return [
    { name: DELIVERY_PROCESSOR, filter: { typePrefixes: ['webhook.received'] } },
    { name: RECOVERY_FEED, filter: RECOVERY_FEED_FILTER, partitions: enginePartitions },
    { name: RECOVERY_EVENTS, filter: RECOVERY_EVENTS_FILTER, partitions: enginePartitions },
    ...READ_MODEL_PROJECTIONS.map((p) => ({ name: p.subscription, filter: p.filter })),
  ];
}

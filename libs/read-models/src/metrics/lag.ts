import type { Pool } from 'pg';
import {
  getCheckpoint,
  getHeadPosition,
  partitionName,
  START,
  type EventFilter,
  type EventStore,
  type GlobalPosition,
} from '@reclaim/event-store';

export interface SubscriptionRef {
  readonly name: string;
  readonly filter?: EventFilter;
  /** Run partitioned (ENGINE_PARTITIONS): one checkpoint per partition; the lag adds them up. */
  readonly partitions?: number;
}

export interface SubscriptionLag {
  readonly name: string;
  /** head − checkpoint in global positions (an upper bound: it also counts events the filter skips). */
  readonly positions: number;
  /** Events the subscription still has to handle, counted up to `cap` (then `cap`). */
  readonly pending: number;
  /** True when `pending` reached the cap. */
  readonly capped: boolean;
}

/** Lag of each subscription: from its stored checkpoint to the store's head. */
export async function subscriptionLags(
  pool: Pool,
  store: EventStore,
  subscriptions: readonly SubscriptionRef[],
  cap = 1_000,
): Promise<SubscriptionLag[]> {
  const head = await getHeadPosition(store);
  const lagOf = async (name: string, filter: EventFilter | undefined, max: number) => {
    const checkpoint: GlobalPosition = await getCheckpoint(pool, name);
    const from = checkpoint === START || checkpoint.commit < 0n ? -1n : checkpoint.commit;
    const positions = head.commit > from ? Number(head.commit - from) : 0;
    const pending = positions === 0 ? [] : await store.readAll({ after: checkpoint, filter, maxCount: max });
    return { positions, pending: pending.length };
  };
  return Promise.all(
    subscriptions.map(async (s) => {
      if (s.partitions === undefined) {
        const { positions, pending } = await lagOf(s.name, s.filter, cap);
        return { name: s.name, positions, pending, capped: pending >= cap };
      }
      // The furthest-behind partition's positions; the pending events of all partitions, counted
      // one partition after the other until the cap (so a backlog costs about `cap` events read).
      const count = s.partitions;
      let positions = 0;
      let pending = 0;
      for (let index = 0; index < count; index++) {
        const part = await lagOf(
          partitionName(s.name, index, count),
          { ...s.filter, partition: { index, count } },
          Math.max(1, cap - pending),
        );
        positions = Math.max(positions, part.positions);
        if (pending < cap) pending += part.pending;
      }
      pending = Math.min(cap, pending);
      return { name: s.name, positions, pending, capped: pending >= cap };
    }),
  );
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

import type { Pool } from 'pg';
import type { RecoveryArm } from '@reclaim/domain';
import {
  armSumsOf,
  DEFAULT_MIN_SAMPLE,
  EMPTY_ARM_SUMS,
  lift,
  type ArmSums,
  type ArmSumsRow,
  type LiftResult,
} from './lift';

export interface LiftRow {
  readonly shopId: string;
  readonly segment: string;
  readonly sequenceId: string;
  readonly lift: LiftResult;
}

/**
 * Lift per shop × segment × sequence from `read.lift_arms` (segment 'all' = every recovery): the
 * live-treated arm vs the holdout; shadow and outside-rollout recoveries received nothing and are left out.
 * `minimum`: carts per arm below which the answer is "not enough data yet".
 */
export async function liftReport(
  pool: Pick<Pool, 'query'>,
  options: { readonly shopId?: string; readonly minimum?: number } = {},
): Promise<LiftRow[]> {
  const { rows } = await pool.query<
    ArmSumsRow & { shop_id: string; segment: string; sequence_id: string; arm: RecoveryArm }
  >(`SELECT * FROM read.lift_arms WHERE $1::text IS NULL OR shop_id = $1 ORDER BY shop_id, segment, sequence_id, arm`, [
    options.shopId ?? null,
  ]);
  const groups = new Map<
    string,
    { shopId: string; segment: string; sequenceId: string; arms: Record<string, ArmSums> }
  >();
  for (const r of rows) {
    const key = JSON.stringify([r.shop_id, r.segment, r.sequence_id]);
    const g = groups.get(key) ?? { shopId: r.shop_id, segment: r.segment, sequenceId: r.sequence_id, arms: {} };
    g.arms[r.arm] = armSumsOf(r);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({
    shopId: g.shopId,
    segment: g.segment,
    sequenceId: g.sequenceId,
    lift: lift(
      g.arms['live-treated'] ?? EMPTY_ARM_SUMS,
      g.arms.holdout ?? EMPTY_ARM_SUMS,
      options.minimum ?? DEFAULT_MIN_SAMPLE,
    ),
  }));
}

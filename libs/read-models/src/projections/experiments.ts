import type { PoolClient } from 'pg';
import type {
  ExperimentClosedData,
  ExperimentEvaluatedData,
  ExperimentOpenedData,
  ExperimentVariantAdoptedData,
  ExperimentVariantStoppedData,
  VariantAssignment,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { EXPERIMENT_ARMS, EXPERIMENTS, VARIANT_ASSIGNMENTS } from '../schema';
import {
  purgeShop,
  purgeShopRows,
  shopOfRedaction,
  splitAtShopRedactions,
  SHOP_REDACTED,
  type ApplyOptions,
  type Projection,
} from './projection';
import { alreadyApplied, positionText, RowSet, type Row } from './rows';

interface Tables {
  readonly experiments: RowSet;
  readonly arms: RowSet;
  readonly assignments: RowSet;
}

const shopOfRecovery = (recoveryId: string): string => recoveryId.slice('recovery-'.length, 'recovery-'.length + 36);

/**
 * Folds the experiments' events (RFC 0016) into `read.experiments` and `read.experiment_arms`
 * (the last evaluation's evidence and posteriors per variant, stops and adoption), and every
 * `recovery.variant-assigned` into `read.variant_assignments`.
 */
export function applyExperimentEvent(t: Tables, e: RecordedEvent): void {
  const position = positionText(e);
  if (e.type === 'recovery.variant-assigned') {
    const d = e.data as VariantAssignment & { recoveryId: string };
    const key = { recovery_id: d.recoveryId, step: d.step };
    if (alreadyApplied(t.assignments.get(key), e)) return;
    t.assignments.put({
      ...key,
      shop_id: shopOfRecovery(d.recoveryId),
      experiment_id: d.experimentId,
      variant_id: d.variantId,
      segment: d.segment,
      mode: d.mode,
      arm: d.arm ?? null,
      propensity: String(d.propensity),
      settled_draws: d.settled ?? null,
      decided_at: d.decidedAt,
      overrides: JSON.stringify(d.overrides),
      position,
    });
    return;
  }
  const { shopId, experimentId } = e.data as { shopId: string; experimentId: string };
  const key = { shop_id: shopId, experiment_id: experimentId };
  const x: Row = t.experiments.get(key) ?? { ...key, status: 'running', evaluations: 0 };
  if (alreadyApplied(x, e)) return;
  x.position = position;
  const arm = (variantId: string): Row =>
    t.arms.get({ ...key, variant_id: variantId }) ?? { ...key, variant_id: variantId, status: 'running' };
  switch (e.type) {
    case 'experiment.opened': {
      const d = e.data as ExperimentOpenedData;
      Object.assign(x, {
        sequence_id: d.sequenceId,
        sequence_version: d.sequenceVersion,
        step: d.step,
        segment: d.segment,
        variants: d.variants.map((v) => v.id),
        opened_at: d.at,
      });
      for (const v of d.variants) t.arms.put({ ...arm(v.id), position });
      break;
    }
    case 'experiment.evaluated': {
      const d = e.data as ExperimentEvaluatedData;
      x.evaluations = Number(x.evaluations ?? 0) + 1;
      x.last_evaluated_at = d.at;
      for (const a of d.arms) {
        t.arms.put({
          ...arm(a.variantId),
          assignments: a.assignments,
          settled: a.settled,
          recovered: a.recovered,
          net_revenue: String(a.netRevenue),
          discount_cost: String(a.discountCost),
          messages: a.messages,
          unsubscribes: a.unsubscribes,
          complaints: a.complaints,
          posterior_recovery_rate: String(a.posterior.alpha / (a.posterior.alpha + a.posterior.beta)),
          posterior_value_mean: String(a.posterior.valueMean),
          posterior_mean_reward: String(a.posterior.meanReward),
          probability_best: String(a.probabilityBest),
          evaluated_at: d.at,
          position,
        });
      }
      break;
    }
    case 'experiment.variant-stopped': {
      const d = e.data as ExperimentVariantStoppedData;
      t.arms.put({
        ...arm(d.variantId),
        status: 'stopped',
        stopped_guardrail: d.guardrail,
        stopped_rate: String(d.rate),
        stopped_at: d.at,
        probability_best: null,
        position,
      });
      break;
    }
    case 'experiment.variant-adopted': {
      const d = e.data as ExperimentVariantAdoptedData;
      Object.assign(x, {
        adopted_variant_id: d.variantId,
        adopted_probability_best: String(d.probabilityBest),
        adopted_samples: d.samples,
        adopt_threshold: String(d.threshold),
        adopted_at: d.at,
      });
      t.arms.put({ ...arm(d.variantId), status: 'adopted', probability_best: String(d.probabilityBest), position });
      break;
    }
    case 'experiment.closed': {
      const d = e.data as ExperimentClosedData;
      Object.assign(x, { status: 'closed', close_reason: d.reason, closed_at: d.at });
      break;
    }
    default:
      return;
  }
  t.experiments.put(x);
}

const newTables = (complete: boolean): Tables => ({
  experiments: new RowSet(EXPERIMENTS, { complete }),
  arms: new RowSet(EXPERIMENT_ARMS, { complete }),
  assignments: new RowSet(VARIANT_ASSIGNMENTS, { complete }),
});

export const experimentsProjection: Projection = {
  name: 'experiments',
  subscription: 'read-models.experiments',
  filter: { typePrefixes: ['experiment.', 'recovery.variant-assigned', SHOP_REDACTED] },
  tables: [EXPERIMENTS, EXPERIMENT_ARMS, VARIANT_ASSIGNMENTS],
  async apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void> {
    const kept = options?.session?.state<Tables>(() => newTables(true));
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        if (kept) purgeShopRows({ ...kept }, shopOfRedaction(part));
        else await purgeShop(tx, [EXPERIMENTS, EXPERIMENT_ARMS, VARIANT_ASSIGNMENTS], shopOfRedaction(part));
        continue;
      }
      const t = kept ?? newTables(false);
      const shops = [
        ...new Set(
          part.filter((e) => e.type.startsWith('experiment.')).map((e) => (e.data as { shopId: string }).shopId),
        ),
      ];
      const recoveries = [
        ...new Set(
          part
            .filter((e) => e.type === 'recovery.variant-assigned')
            .map((e) => (e.data as { recoveryId: string }).recoveryId),
        ),
      ];
      await t.experiments.loadBy(tx, 'shop_id', shops);
      await t.arms.loadBy(tx, 'shop_id', shops);
      await t.assignments.loadBy(tx, 'recovery_id', recoveries);
      for (const e of part) applyExperimentEvent(t, e);
      await t.experiments.flush(tx);
      await t.arms.flush(tx);
      await t.assignments.flush(tx);
    }
  },
};

/**
 * The recovery score at abandonment: the shop's live model (data, `@reclaim/learning`) applied to
 * the feature vector the recovery has just recorded. The model comes with the start context; the
 * process manager records the result (`recovery.scored`, or `recovery.score-unavailable` with how
 * many labelled outcomes are still needed), so a replay never scores again.
 *
 * `scoreRow` is the one mapping from a recorded vector to a model row, used by training (the
 * training table) and by scoring alike: money strings become numbers, everything else is kept.
 */
import { explainPrediction, predictProbability, type FeatureRecord, type LogisticModel } from '@reclaim/learning';
import type { RecoveryFeatures } from './features';

/** Where the live model was trained: the shop's own outcomes, or every shop's (the prior while it has too few). */
export type ModelScope = 'shop' | 'pooled';

/** What a recovery is scored with when it starts (`StartContext.scoring`). */
export type ScoringContext =
  | {
      readonly kind: 'model';
      /** The shop's live model version (1, 2, … per shop, `model-<shopId>`). */
      readonly version: number;
      readonly scope: ModelScope;
      readonly model: LogisticModel;
    }
  | {
      readonly kind: 'none';
      /** Labelled outcomes still needed before any model (the shop's or the pool's) can be trained. */
      readonly outcomesNeeded: number;
    };

export type ScoreResult =
  | {
      readonly kind: 'scored';
      readonly score: number;
      readonly modelVersion: number;
      readonly contentHash: string;
      readonly scope: ModelScope;
    }
  | { readonly kind: 'unavailable'; readonly reason: 'no-model'; readonly outcomesNeeded: number };

function money(value: string): number | null {
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The model row of a recorded feature vector (training and scoring use exactly this). */
export function scoreRow(features: RecoveryFeatures): FeatureRecord {
  return {
    cart_value: money(features.cart_value),
    currency: features.currency,
    item_count: features.item_count,
    categories: features.categories === '' ? null : features.categories,
    category_count: features.category_count,
    returning: features.returning,
    orders_count: features.orders_count,
    total_spent: money(features.total_spent),
    days_since_last_purchase: features.days_since_last_purchase,
    previous_abandonments: features.previous_abandonments,
    previous_recoveries: features.previous_recoveries,
    discount_orders: features.discount_orders,
    device: features.device,
    traffic_source: features.traffic_source,
    local_hour: features.local_hour,
    local_weekday: features.local_weekday === null ? null : String(features.local_weekday),
    checkout_stage: features.checkout_stage,
    ignored_recovery_messages: features.ignored_recovery_messages,
  };
}

/** The columns of {@link scoreRow}, in order (the export's header). */
export const SCORE_COLUMNS = [
  'cart_value',
  'currency',
  'item_count',
  'categories',
  'category_count',
  'returning',
  'orders_count',
  'total_spent',
  'days_since_last_purchase',
  'previous_abandonments',
  'previous_recoveries',
  'discount_orders',
  'device',
  'traffic_source',
  'local_hour',
  'local_weekday',
  'checkout_stage',
  'ignored_recovery_messages',
] as const;

/** Column kinds fixed once (not inferred per table): local_weekday is a day, not a quantity. */
export const SCORE_COLUMN_KINDS: Readonly<Record<(typeof SCORE_COLUMNS)[number], 'numeric' | 'categorical'>> = {
  cart_value: 'numeric',
  currency: 'categorical',
  item_count: 'numeric',
  categories: 'categorical',
  category_count: 'numeric',
  returning: 'numeric',
  orders_count: 'numeric',
  total_spent: 'numeric',
  days_since_last_purchase: 'numeric',
  previous_abandonments: 'numeric',
  previous_recoveries: 'numeric',
  discount_orders: 'numeric',
  device: 'categorical',
  traffic_source: 'categorical',
  local_hour: 'numeric',
  local_weekday: 'categorical',
  checkout_stage: 'categorical',
  ignored_recovery_messages: 'numeric',
};

/** Scores a recorded vector with the context's model; rounded to 6 decimals (what the log keeps). */
export function scoreFeatures(ctx: ScoringContext, features: RecoveryFeatures): ScoreResult {
  if (ctx.kind === 'none') return { kind: 'unavailable', reason: 'no-model', outcomesNeeded: ctx.outcomesNeeded };
  const p = predictProbability(ctx.model, scoreRow(features));
  return {
    kind: 'scored',
    score: Math.round(p * 1e6) / 1e6,
    modelVersion: ctx.version,
    contentHash: ctx.model.contentHash,
    scope: ctx.scope,
  };
}

/** How many features a recorded explanation keeps (`recovery.routed.topFeatures`). */
export const EXPLANATION_FEATURES = 5;

/**
 * Why the model scored these features as it did: the largest per-feature contributions to the
 * log-odds (weight × standardised value, the model card's feature names), rounded to 4 decimals.
 * Empty without a model.
 */
export function explainScore(
  ctx: ScoringContext,
  features: RecoveryFeatures,
  top = EXPLANATION_FEATURES,
): { feature: string; contribution: number }[] {
  if (ctx.kind === 'none') return [];
  return explainPrediction(ctx.model, scoreRow(features), top).map((c) => ({
    feature: c.feature,
    contribution: Math.round(c.contribution * 1e4) / 1e4,
  }));
}

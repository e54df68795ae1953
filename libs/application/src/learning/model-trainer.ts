/**
 * Trains a shop's recovery-score model from the log and decides whether it goes live (RFC 0011
 * §2–4): the shop's own table when it has enough labelled outcomes, else the pooled table of every
 * shop used as is (`scope: pooled`), else no model and how many outcomes are still needed. The
 * challenger is trained on all but the most recent labelled rows and compared with the live model
 * on those (the validation window); every outcome is an event on `model-<shop>`.
 */
import { randomUUID } from 'node:crypto';
import {
  CURRENT_SCHEMA_VERSIONS,
  modelStream,
  SCORE_COLUMN_KINDS,
  SCORE_COLUMNS,
  type ModelComparison,
  type ModelDecisionData,
  type ModelEvent,
  type ModelScope,
  type ModelTrainedData,
  type ModelValidation,
} from '@reclaim/domain';
import { evaluate, featureImportances, predictProbability, train, type LogisticModel } from '@reclaim/learning';
import type { EventStore, NewEvent } from '@reclaim/event-store';
import { readModelStream } from './model-stream';
import { buildTrainingTable, type TrainingRow } from './training-table';

export interface ModelTrainingSettings {
  /** Label: an order within this long of abandonment (SCORE_LABEL_WINDOW). */
  readonly labelWindowMs: number;
  /** Labelled outcomes a table needs before a model is trained on it (SCORE_MIN_OUTCOMES). */
  readonly minOutcomes: number;
  /**
   * Below this many of its own outcomes a shop's model shrinks towards the other shops' pooled
   * model (its prior) instead of towards zero. Default {@link PRIOR_UNTIL_OUTCOMES}.
   */
  readonly priorUntilOutcomes?: number;
}

/** A shop with fewer own outcomes borrows from the other shops (RFC 0011 §2); above it the prior changes little. */
export const PRIOR_UNTIL_OUTCOMES = 20_000;
/** The prior is trained on at most this many of the other shops' most recent labelled rows. */
export const PRIOR_MAX_ROWS = 100_000;

/** Share of the labelled rows (most recent first) held out as the validation window; at least {@link MIN_VALIDATION_ROWS}. */
export const VALIDATION_SHARE = 0.2;
export const MIN_VALIDATION_ROWS = 20;
/** "At least as good" (RFC 0011 §3): AUC may be this much lower, Brier this much higher — the noise of a small window. */
export const AUC_TOLERANCE = 0.005;
export const BRIER_TOLERANCE = 0.001;

export type Trigger = 'schedule' | 'on-demand';

export type TrainingOutcome =
  | {
      readonly kind: 'promoted' | 'rejected';
      readonly version: number;
      readonly scope: ModelScope;
      readonly reason: string;
      readonly rows: number;
      readonly validation: ModelValidation;
      readonly champion?: ModelDecisionData['champion'];
    }
  | {
      readonly kind: 'skipped';
      readonly outcomes: number;
      readonly pooledOutcomes: number;
      readonly needed: number;
    }
  | { readonly kind: 'failed'; readonly error: string };

export interface ModelTrainerDeps {
  readonly store: EventStore;
  readonly settings: ModelTrainingSettings;
  readonly clock: () => Date;
  /** Told after every append to a model stream (the live-model caches drop the shop). */
  readonly onModelChanged?: (shopId: string) => Promise<void> | void;
}

const round = (x: number, digits = 6): number => Math.round(x * 10 ** digits) / 10 ** digits;
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? round(x) : null);

function bothClasses(rows: readonly TrainingRow[]): boolean {
  const positives = rows.reduce((s, r) => s + r.label, 0);
  return positives > 0 && positives < rows.length;
}

/** The challenger beats the champion? (RFC 0011 §3.) */
export function championChallenger(
  challenger: ModelComparison,
  champion: ModelComparison | undefined,
): { promote: boolean; reason: string } {
  if (challenger.auc === null) return { promote: false, reason: 'one-class-window' };
  if (champion === undefined) {
    return challenger.auc > 0.5
      ? { promote: true, reason: 'no-champion' }
      : { promote: false, reason: 'no-better-than-chance' };
  }
  if (champion.auc !== null && challenger.auc < champion.auc - AUC_TOLERANCE)
    return { promote: false, reason: 'lower-auc' };
  if (challenger.brier > champion.brier + BRIER_TOLERANCE) return { promote: false, reason: 'higher-brier' };
  return { promote: true, reason: 'at-least-as-good' };
}

/** The quality of `model` on the window's rows. */
export function validate(model: LogisticModel, window: readonly TrainingRow[]): ModelValidation {
  const p = window.map((r) => predictProbability(model, r.features));
  const y = window.map((r) => r.label);
  const m = evaluate(p, y);
  return {
    rows: m.rows,
    positives: m.positives,
    from: window[0].abandonedAt,
    to: window[window.length - 1].abandonedAt,
    auc: finiteOrNull(m.auc),
    brier: round(m.brier),
    ece: round(m.ece),
    reliability: m.reliability.map((b) => ({
      lower: b.lower,
      upper: round(b.upper, 2),
      count: b.count,
      meanPredicted: finiteOrNull(b.meanPredicted),
      observedRate: finiteOrNull(b.observedRate),
    })),
  };
}

function comparison(v: ModelValidation): ModelComparison {
  return { auc: v.auc, brier: v.brier, ece: v.ece };
}

export interface ChallengerResult {
  readonly model: LogisticModel;
  /** The rows the challenger was trained on (all but the validation window). */
  readonly fit: readonly TrainingRow[];
  /** The most recent rows, held out: both models are judged on them. */
  readonly window: readonly TrainingRow[];
  readonly validation: ModelValidation;
  readonly champion?: ModelDecisionData['champion'];
  readonly decision: { promote: boolean; reason: string };
}

/**
 * The prior of a small shop's model (RFC 0011 §2): the pooled model of the *other* shops' labelled
 * rows (never the shop's own, so its validation window stays unseen), their most recent
 * {@link PRIOR_MAX_ROWS}, trained as any model is. `undefined` when they cannot make one.
 */
export function trainPrior(
  pooled: readonly TrainingRow[],
  shopId: string,
): { readonly model: LogisticModel; readonly rows: number; readonly shops: number } | undefined {
  const others = pooled.filter((r) => r.shopId !== shopId).slice(-PRIOR_MAX_ROWS);
  if (others.length < MIN_VALIDATION_ROWS || !bothClasses(others)) return undefined;
  const model = train(
    others.map((r) => r.features),
    others.map((r) => r.label),
    { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS, seed: 1 },
  );
  return { model, rows: others.length, shops: new Set(others.map((r) => r.shopId)).size };
}

/**
 * The learning step of a training (RFC 0011 §3), without I/O: `rows` oldest first; the most
 * recent {@link VALIDATION_SHARE} (at least {@link MIN_VALIDATION_ROWS}) are the validation window,
 * the challenger is trained on the rest with the engine's columns and seed, both it and the live
 * model (if any) are scored on the window, and the champion/challenger rule decides.
 */
export function trainChallenger(
  rows: readonly TrainingRow[],
  live?: { readonly version: number; readonly model: LogisticModel },
  prior?: LogisticModel,
): ChallengerResult {
  const held = Math.max(MIN_VALIDATION_ROWS, Math.ceil(rows.length * VALIDATION_SHARE));
  const fit = rows.slice(0, rows.length - held);
  const window = rows.slice(rows.length - held);
  const model = train(
    fit.map((r) => r.features),
    fit.map((r) => r.label),
    { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS, seed: 1, ...(prior ? { prior } : {}) },
  );
  const validation = validate(model, window);
  const champion = live ? { version: live.version, ...comparison(validate(live.model, window)) } : undefined;
  const decision = championChallenger(comparison(validation), champion);
  return { model, fit, window, validation, ...(champion ? { champion } : {}), decision };
}

export class ModelTrainer {
  constructor(private readonly deps: ModelTrainerDeps) {}

  /** One training of the shop's model; the outcome is also on the shop's model stream. */
  async train(shopId: string, trigger: Trigger): Promise<TrainingOutcome> {
    const { store, settings } = this.deps;
    const state = await readModelStream(store, shopId);
    const now = this.deps.clock();
    const at = now.toISOString();
    try {
      const table = { labelWindowMs: settings.labelWindowMs, now };
      const own = await buildTrainingTable(store, { ...table, shopId });
      let rows = own;
      let scope: ModelScope = 'shop';
      let pooledOutcomes = own.length;
      if (own.length < settings.minOutcomes || !bothClasses(own)) {
        rows = await buildTrainingTable(store, table);
        pooledOutcomes = rows.length;
        scope = 'pooled';
        if (rows.length < settings.minOutcomes || !bothClasses(rows)) {
          const needed = Math.max(1, settings.minOutcomes - rows.length);
          await this.append(shopId, state.expected, [
            {
              type: 'model.training-skipped',
              data: { shopId, at, trigger, reason: 'too-few-outcomes', outcomes: own.length, pooledOutcomes, needed },
            },
          ]);
          return { kind: 'skipped', outcomes: own.length, pooledOutcomes, needed };
        }
      }
      // A small shop's own model borrows from the other shops: their pooled model is its prior.
      let prior: ReturnType<typeof trainPrior>;
      if (scope === 'shop' && own.length < (settings.priorUntilOutcomes ?? PRIOR_UNTIL_OUTCOMES)) {
        const pooled = await buildTrainingTable(store, table);
        prior = trainPrior(pooled, shopId);
      }
      const { model, fit, validation, champion, decision } = trainChallenger(rows, state.live, prior?.model);
      const version = state.lastVersion + 1;
      const trained: ModelTrainedData = {
        shopId,
        version,
        scope,
        trainedAt: at,
        trigger,
        labelWindowMs: settings.labelWindowMs,
        trainingWindow: { from: fit[0].abandonedAt, to: fit[fit.length - 1].abandonedAt },
        rows: fit.length,
        positives: fit.reduce((s, r) => s + r.label, 0),
        validation,
        importances: featureImportances(model)
          .slice(0, 20)
          .map((f) => ({ feature: f.feature, weight: round(f.weight) })),
        contentHash: model.contentHash,
        model,
        ...(prior ? { prior: { contentHash: prior.model.contentHash, rows: prior.rows, shops: prior.shops } } : {}),
      };
      const decided: ModelDecisionData = {
        shopId,
        version,
        at,
        reason: decision.reason,
        challenger: comparison(validation),
        ...(champion ? { champion } : {}),
      };
      await this.append(shopId, state.expected, [
        { type: 'model.trained', data: trained },
        { type: decision.promote ? 'model.promoted' : 'model.rejected', data: decided },
      ]);
      return {
        kind: decision.promote ? 'promoted' : 'rejected',
        version,
        scope,
        reason: decision.reason,
        rows: fit.length,
        validation,
        ...(champion ? { champion } : {}),
      };
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const latest = await readModelStream(store, shopId);
      await this.append(shopId, latest.expected, [
        { type: 'model.training-failed', data: { shopId, at, trigger, error: error.slice(0, 500) } },
      ]);
      return { kind: 'failed', error };
    }
  }

  private async append(
    shopId: string,
    expected: Awaited<ReturnType<typeof readModelStream>>['expected'],
    events: readonly Pick<ModelEvent, 'type' | 'data'>[],
  ): Promise<void> {
    const stored: NewEvent[] = events.map((e) => ({
      id: randomUUID(),
      type: e.type,
      schemaVersion: CURRENT_SCHEMA_VERSIONS[e.type],
      data: e.data,
      metadata: { shopId },
    }));
    await this.deps.store.append(modelStream(shopId), stored, expected);
    await this.deps.onModelChanged?.(shopId);
  }
}

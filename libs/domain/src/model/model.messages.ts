/**
 * The recovery-score model stream's vocabulary (`model-<shop>`, RFC 0011): each training of the
 * shop's model, whether it went live (champion/challenger), and why no model could be trained.
 * Written by the application's trainer; read by the live-model cache and the `models` read model.
 */
import type { DomainEvent } from '../events/envelope';
import type { IsoTimestamp } from '../inbound/inbound-types';
import type { ModelScope } from '../recovery/score';

/** Held-out quality of a model on the validation window (most recent labelled recoveries). */
export interface ModelValidation {
  readonly rows: number;
  readonly positives: number;
  /** First and last abandonment of the window. */
  readonly from: IsoTimestamp;
  readonly to: IsoTimestamp;
  /** NaN cannot be stored: null when the window has one class only. */
  readonly auc: number | null;
  readonly brier: number;
  readonly ece: number;
  /** 10 equal-width bins: count, mean predicted, observed rate (null when empty). */
  readonly reliability: readonly {
    readonly lower: number;
    readonly upper: number;
    readonly count: number;
    readonly meanPredicted: number | null;
    readonly observedRate: number | null;
  }[];
}

export interface ModelTrainedData {
  readonly shopId: string;
  /** 1, 2, … per shop. */
  readonly version: number;
  readonly scope: ModelScope;
  readonly trainedAt: IsoTimestamp;
  readonly trigger: 'schedule' | 'on-demand';
  /** Label: an order within this long of abandonment. */
  readonly labelWindowMs: number;
  /** First and last abandonment of the training rows. */
  readonly trainingWindow: { readonly from: IsoTimestamp; readonly to: IsoTimestamp };
  readonly rows: number;
  readonly positives: number;
  readonly validation: ModelValidation;
  /** Largest standardised weights first (at most 20). */
  readonly importances: readonly { readonly feature: string; readonly weight: number }[];
  readonly contentHash: string;
  /** The model itself (`reclaim.logistic-l2-platt.v1` JSON, checked against `contentHash` on read). */
  readonly model: unknown;
  /**
   * A shop model trained with the other shops' pooled model as its prior (RFC 0011 §2): that
   * model's hash, rows and shops. Absent: no prior (a pooled model, a large shop, or no other shop).
   */
  readonly prior?: { readonly contentHash: string; readonly rows: number; readonly shops: number };
}

export interface ModelComparison {
  readonly auc: number | null;
  readonly brier: number;
  readonly ece: number;
}

export interface ModelDecisionData {
  readonly shopId: string;
  readonly version: number;
  readonly at: IsoTimestamp;
  /** e.g. `no-champion`, `at-least-as-good`, `lower-auc`, `higher-brier`, `one-class-window`, `no-better-than-chance`. */
  readonly reason: string;
  readonly challenger: ModelComparison;
  /** The live model on the same window; absent when there was none. */
  readonly champion?: ModelComparison & { readonly version: number };
}

export interface ModelTrainingSkippedData {
  readonly shopId: string;
  readonly at: IsoTimestamp;
  readonly trigger: 'schedule' | 'on-demand';
  readonly reason: 'too-few-outcomes';
  /** Labelled outcomes of the shop, and of every shop. */
  readonly outcomes: number;
  readonly pooledOutcomes: number;
  /** More labelled outcomes needed before any model can be trained. */
  readonly needed: number;
}

export interface ModelTrainingFailedData {
  readonly shopId: string;
  readonly at: IsoTimestamp;
  readonly trigger: 'schedule' | 'on-demand';
  readonly error: string;
}

export type ModelTrained = DomainEvent<'model.trained', ModelTrainedData>;
export type ModelPromoted = DomainEvent<'model.promoted', ModelDecisionData>;
export type ModelRejected = DomainEvent<'model.rejected', ModelDecisionData>;
export type ModelTrainingSkipped = DomainEvent<'model.training-skipped', ModelTrainingSkippedData>;
export type ModelTrainingFailed = DomainEvent<'model.training-failed', ModelTrainingFailedData>;

export type ModelEvent = ModelTrained | ModelPromoted | ModelRejected | ModelTrainingSkipped | ModelTrainingFailed;

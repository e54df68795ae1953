/**
 * The experiment stream's vocabulary (`experiment-<shop>-<experimentId>`, RFC 0016): one stream per
 * sequence version × step × segment whose step has variants. Opened at its first evaluation,
 * evaluated whenever its settled evidence changed (the posteriors and each variant's probability
 * of being best, so the learning is on the record), a variant stopped by a guardrail, a variant
 * adopted, closed. Written by the application's experiment evaluator; read back into the start
 * context (adopted / stopped variants) and by the experiments read models.
 */
import type { DomainEvent } from '../events/envelope';
import type { IsoTimestamp } from '../inbound/inbound-types';
import type { Segment } from '../recovery/segments';
import type { ArmPosterior } from '../recovery/thompson';
import type { StepVariant } from '../recovery/variants';

export interface ExperimentRef {
  readonly shopId: string;
  readonly experimentId: string;
}

export interface ExperimentOpenedData extends ExperimentRef {
  readonly sequenceId: string;
  readonly sequenceVersion: number;
  readonly step: number;
  readonly segment: Segment;
  readonly variants: readonly StepVariant[];
  readonly at: IsoTimestamp;
}

/** One variant's evidence at an evaluation: the reward part settled, the guardrail part as sent. */
export interface VariantEvidence {
  readonly variantId: string;
  /** Recoveries assigned this variant so far (settled or not). */
  readonly assignments: number;
  /** Of those, settled (recovered, or ended with the attribution window closed). */
  readonly settled: number;
  readonly recovered: number;
  /** Net revenue (revenue − discount cost) of the recovered, and its sum of squares. */
  readonly netRevenue: number;
  readonly netRevenueSquares: number;
  /** Discount cost of the recovered (the spend). */
  readonly discountCost: number;
  /** Messages sent by the variant's step, unsubscribes and complaints after them. */
  readonly messages: number;
  readonly unsubscribes: number;
  readonly complaints: number;
}

export interface EvaluatedArm extends VariantEvidence {
  readonly posterior: Omit<ArmPosterior, 'variantId'>;
  readonly probabilityBest: number;
}

export interface ExperimentEvaluatedData extends ExperimentRef {
  readonly at: IsoTimestamp;
  /** Seed and draws of the probabilities of being best (replayable). */
  readonly seed: number;
  readonly draws: number;
  /** Every variant still running, with its posterior; stopped ones are not evaluated. */
  readonly arms: readonly EvaluatedArm[];
}

/**
 * `unsubscribe-rate` / `complaint-rate`: above the shop's limit; `complaint-rate-vs-others`: the
 * variant's complaint rate is credibly above the pooled rate of the other running variants
 * (`threshold` is then that pooled rate).
 */
export type Guardrail = 'unsubscribe-rate' | 'complaint-rate' | 'complaint-rate-vs-others';

export interface ExperimentVariantStoppedData extends ExperimentRef {
  readonly at: IsoTimestamp;
  readonly variantId: string;
  readonly guardrail: Guardrail;
  /** Observed rate (events / messages), the limit, and the posterior probability of exceeding it. */
  readonly rate: number;
  readonly threshold: number;
  readonly probabilityAbove: number;
  readonly messages: number;
  readonly events: number;
}

export interface ExperimentVariantAdoptedData extends ExperimentRef {
  readonly at: IsoTimestamp;
  readonly variantId: string;
  readonly probabilityBest: number;
  /** Settled assignments of all running variants at the adoption. */
  readonly samples: number;
  readonly posteriors: readonly ArmPosterior[];
  readonly threshold: number;
}

export type ExperimentCloseReason = 'adopted' | 'one-variant-left' | 'all-stopped';

export interface ExperimentClosedData extends ExperimentRef {
  readonly at: IsoTimestamp;
  readonly reason: ExperimentCloseReason;
  /** The variant recoveries get from now on (none when all were stopped: the step runs as defined). */
  readonly variantId?: string;
}

export type ExperimentOpened = DomainEvent<'experiment.opened', ExperimentOpenedData>;
export type ExperimentEvaluated = DomainEvent<'experiment.evaluated', ExperimentEvaluatedData>;
export type ExperimentVariantStopped = DomainEvent<'experiment.variant-stopped', ExperimentVariantStoppedData>;
export type ExperimentVariantAdopted = DomainEvent<'experiment.variant-adopted', ExperimentVariantAdoptedData>;
export type ExperimentClosed = DomainEvent<'experiment.closed', ExperimentClosedData>;

export type ExperimentEvent =
  ExperimentOpened | ExperimentEvaluated | ExperimentVariantStopped | ExperimentVariantAdopted | ExperimentClosed;

/**
 * Step variants and their experiments (RFC 0016). A sequence step may list variants, each
 * overriding some of the step's fields (subject, template, discount, delay, channels, send-time);
 * the variants of one step for one segment are an experiment, `<sequence>@<version>.s<step>.<segment>`
 * on the stream `experiment-<shop>-<experimentId>`. A recovery gets, per step with variants, the
 * adopted variant once the experiment adopted one, the only variant left when guardrails stopped the
 * others, else a Thompson draw; each assignment is recorded with its propensity.
 */
import type { RecoveryArm } from './arms';
import { RESPONSE_SEGMENT_ORDER } from './channel-choice';
import type { Segment } from './segments';
import { posteriorsOf, probabilityBest, seededUniform, seedOf, thompsonChoice, type ArmEvidence } from './thompson';
import type { StepVariant } from './sequences';
import type { IsoTimestamp } from './types';

export type { StepVariant } from './sequences';
export { DEFAULT_EXPERIMENT_SETTINGS, type ExperimentSettings } from './experiment-settings';

export const VARIANT_FIELDS = ['subject', 'template', 'discountPercent', 'delayMs', 'channels', 'sendTime'] as const;

/**
 * The segment an experiment is keyed by: the recovery's most specific segment in the order the
 * channel choice and the learned discounts use ({@link RESPONSE_SEGMENT_ORDER}), so each recovery
 * belongs to exactly one experiment per step and all learners share one segment key.
 */
export const EXPERIMENT_SEGMENT_ORDER = RESPONSE_SEGMENT_ORDER as readonly Segment[];

export function experimentSegment(segments: readonly Segment[]): Segment {
  return EXPERIMENT_SEGMENT_ORDER.find((s) => segments.includes(s)) ?? 'new';
}

export function experimentIdFor(sequenceId: string, sequenceVersion: number, step: number, segment: Segment): string {
  return `${sequenceId}@${sequenceVersion}.s${step}.${segment}`;
}

/** The inverse of {@link experimentIdFor}; undefined for anything else. */
export function parseExperimentId(
  id: string,
): { sequenceId: string; sequenceVersion: number; step: number; segment: Segment } | undefined {
  const m = /^([a-z0-9][a-z0-9-]{0,63})@(\d+)\.s(\d+)\.([a-z-]+)$/.exec(id);
  if (m === null) return undefined;
  return { sequenceId: m[1], sequenceVersion: Number(m[2]), step: Number(m[3]), segment: m[4] as Segment };
}

export type AssignmentMode = 'thompson' | 'adopted' | 'only-variant';

/** What the application knows of one experiment when a recovery starts. */
export interface ExperimentSnapshot {
  readonly status: 'running' | 'closed';
  readonly adoptedVariantId?: string;
  readonly stoppedVariantIds: readonly string[];
  /** Settled evidence per variant (variants without any may be absent). */
  readonly arms: readonly ArmEvidence[];
}

/** The experiments' part of a start context: their snapshots and the seed of this recovery's draws. */
export interface ExperimentsContext {
  /** A 32-bit seed: the draws of every step derive from it (recorded, so a replay gets the same numbers). */
  readonly seed: number;
  readonly experiments: Readonly<Record<string, ExperimentSnapshot>>;
}

export interface VariantAssignment {
  readonly step: number;
  readonly experimentId: string;
  readonly variantId: string;
  /** Probability that this variant was chosen at that moment (1 for adopted / only-variant). */
  readonly propensity: number;
  readonly segment: Segment;
  readonly mode: AssignmentMode;
  readonly decidedAt: IsoTimestamp;
  /**
   * The seed of the Thompson draw, and the Monte-Carlo draws behind the propensity (thompson only).
   * The propensity's draws are seeded by the evidence (`propensitySeed`), not by the recovery: every
   * recovery assigned on the same evidence gets the same probabilities (computed once, see
   * {@link probabilitiesOf}).
   */
  readonly seed?: number;
  readonly draws?: number;
  /** Every eligible variant's probability of being best at that moment (thompson only). */
  readonly probabilities?: Readonly<Record<string, number>>;
  /** Settled assignments the posterior was built from (thompson only). */
  readonly settled?: number;
  /** The fields the variant set on the step. */
  readonly overrides: Omit<StepVariant, 'id'>;
  /** The recovery's arm (only `live-treated` assignments count as evidence: the others send nothing). */
  readonly arm?: RecoveryArm;
}

function overridesOf(variant: StepVariant): Omit<StepVariant, 'id'> {
  const { id: _id, ...rest } = variant;
  return rest;
}

/** What the propensity's Monte-Carlo draws depend on: the experiment, the step, the draws and the evidence. */
function propensityKey(experimentId: string, step: number, evidence: readonly ArmEvidence[], draws: number): string {
  const arms = evidence.map((a) => `${a.variantId}:${a.settled}:${a.recovered}:${a.netRevenue}:${a.netRevenueSquares}`);
  return `propensity|${experimentId}#${step}|${draws}|${arms.join('|')}`;
}

/** The seed of the propensity's Monte-Carlo draws (recorded assignments can be recomputed from it). */
export function propensitySeed(
  experimentId: string,
  step: number,
  evidence: readonly ArmEvidence[],
  draws: number,
): number {
  return seedOf(propensityKey(experimentId, step, evidence, draws));
}

const PROPENSITY_CACHE_MAX = 1_000;
const propensityCache = new Map<string, readonly number[]>();

/**
 * Each eligible variant's probability of being best on this evidence (`draws` Monte-Carlo draws
 * seeded by {@link propensitySeed}). A pure function of its arguments, memoised (at most 1,000
 * entries, oldest out): the recoveries of an experiment between two changes of its settled evidence
 * share one computation — the draws are nearly all of an assignment's cost (`npm run bench:assignment`).
 */
export function probabilitiesOf(
  experimentId: string,
  step: number,
  evidence: readonly ArmEvidence[],
  posteriors: ReturnType<typeof posteriorsOf>,
  draws: number,
): readonly number[] {
  const key = propensityKey(experimentId, step, evidence, draws);
  const hit = propensityCache.get(key);
  if (hit !== undefined) return hit;
  const probabilities = probabilityBest(posteriors, seededUniform(seedOf(key)), draws);
  if (propensityCache.size >= PROPENSITY_CACHE_MAX) {
    propensityCache.delete(propensityCache.keys().next().value as string);
  }
  propensityCache.set(key, probabilities);
  return probabilities;
}

/** The settled evidence of each eligible variant, in their order (none yet: zeros). */
function evidenceOf(variantIds: readonly string[], snapshot: ExperimentSnapshot | undefined): ArmEvidence[] {
  return variantIds.map(
    (id) =>
      snapshot?.arms.find((a) => a.variantId === id) ?? {
        variantId: id,
        settled: 0,
        recovered: 0,
        netRevenue: 0,
        netRevenueSquares: 0,
      },
  );
}

/**
 * Computes (memoises) the propensities the next Thompson assignments of a running experiment will
 * use, off the recoveries' path: the engine calls it when it refreshes a shop's snapshots.
 * `variantIds`: the experiment's variants in the catalogue's order. Nothing for an adopted or
 * closed experiment or fewer than two variants still running.
 */
export function warmPropensities(
  experimentId: string,
  step: number,
  variantIds: readonly string[],
  snapshot: ExperimentSnapshot,
  draws: number,
): void {
  if (snapshot.status !== 'running' || snapshot.adoptedVariantId !== undefined) return;
  const stopped = new Set(snapshot.stoppedVariantIds);
  const eligible = variantIds.filter((id) => !stopped.has(id));
  if (eligible.length < 2) return;
  const evidence = evidenceOf(eligible, snapshot);
  probabilitiesOf(experimentId, step, evidence, posteriorsOf(evidence), draws);
}

/**
 * The assignment of one step: adopted → that variant; guardrails left one → it; none left →
 * undefined (the step runs as defined); else Thompson with the step's own stream of the seed.
 */
export function assignVariant(input: {
  readonly step: number;
  readonly variants: readonly StepVariant[];
  readonly experimentId: string;
  readonly segment: Segment;
  readonly snapshot: ExperimentSnapshot | undefined;
  readonly seed: number;
  readonly draws: number;
  readonly at: IsoTimestamp;
}): VariantAssignment | undefined {
  const { step, variants, experimentId, segment, snapshot, at } = input;
  const base = { step, experimentId, segment, decidedAt: at };
  if (snapshot?.adoptedVariantId !== undefined) {
    const adopted = variants.find((v) => v.id === snapshot.adoptedVariantId);
    if (adopted !== undefined) {
      return { ...base, variantId: adopted.id, propensity: 1, mode: 'adopted', overrides: overridesOf(adopted) };
    }
  }
  const stopped = new Set(snapshot?.stoppedVariantIds ?? []);
  const eligible = variants.filter((v) => !stopped.has(v.id));
  if (eligible.length === 0) return undefined;
  if (eligible.length === 1) {
    return {
      ...base,
      variantId: eligible[0].id,
      propensity: 1,
      mode: 'only-variant',
      overrides: overridesOf(eligible[0]),
    };
  }
  const evidence = evidenceOf(
    eligible.map((v) => v.id),
    snapshot,
  );
  const posteriors = posteriorsOf(evidence);
  const seed = seedOf(`${experimentId}#${step}`, input.seed);
  const chosen = thompsonChoice(posteriors, seededUniform(seed));
  const probabilities = probabilitiesOf(experimentId, step, evidence, posteriors, input.draws);
  const variant = eligible[chosen];
  return {
    ...base,
    variantId: variant.id,
    propensity: probabilities[chosen],
    mode: 'thompson',
    seed: input.seed,
    draws: input.draws,
    probabilities: Object.fromEntries(eligible.map((v, i) => [v.id, probabilities[i]])),
    settled: evidence.reduce((n, a) => n + a.settled, 0),
    overrides: overridesOf(variant),
  };
}

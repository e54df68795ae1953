/**
 * An experiment's decider (RFC 0016): guardrails first (a variant whose unsubscribe or complaint
 * rate is above its limit with the configured confidence is stopped, and so is one whose complaint
 * rate is credibly above the other running variants' pooled rate), then the posteriors of the
 * variants still running and their probabilities of being best; a variant is adopted when its
 * probability passes the threshold and every running variant has the minimum settled sample.
 * Randomness comes from the command's seed (recorded), evidence from the command (the application
 * reads it from the engine's index of assignments).
 */
import type { Decider } from '../shared/decider';
import { InvalidCommandError } from '../shared/decider';
import type { IsoTimestamp } from '../inbound/inbound-types';
import type { Segment } from '../recovery/segments';
import {
  posteriorsOf,
  probabilityBest,
  probabilityRateAbove,
  sampleBeta,
  seededUniform,
  seedOf,
  type ArmPosterior,
} from '../recovery/thompson';
import type { ExperimentSettings, ExperimentSnapshot, StepVariant } from '../recovery/variants';
import { event } from '../events/catalogue';
import type {
  ExperimentCloseReason,
  ExperimentEvent,
  ExperimentVariantStoppedData,
  Guardrail,
  VariantEvidence,
} from './experiment.messages';

export interface ExperimentState {
  readonly status: 'none' | 'running' | 'closed';
  readonly shopId?: string;
  readonly experimentId?: string;
  readonly variants: readonly string[];
  readonly stopped: readonly string[];
  readonly adoptedVariantId?: string;
  readonly closeReason?: ExperimentCloseReason;
  /** The evidence of the last evaluation (an evaluation with the same evidence records nothing). */
  readonly lastEvidence?: string;
}

export interface EvaluateExperiment {
  readonly type: 'EvaluateExperiment';
  readonly shopId: string;
  readonly experimentId: string;
  readonly definition: {
    readonly sequenceId: string;
    readonly sequenceVersion: number;
    readonly step: number;
    readonly segment: Segment;
    readonly variants: readonly StepVariant[];
  };
  readonly evidence: readonly VariantEvidence[];
  readonly settings: ExperimentSettings;
  /** 32-bit seed of the Monte-Carlo draws. */
  readonly seed: number;
  readonly at: IsoTimestamp;
}

export type ExperimentCommand = EvaluateExperiment;

export const initialExperimentState = (): ExperimentState => ({ status: 'none', variants: [], stopped: [] });

export function evolveExperiment(state: ExperimentState, e: ExperimentEvent): ExperimentState {
  switch (e.type) {
    case 'experiment.opened':
      return {
        ...state,
        status: 'running',
        shopId: e.data.shopId,
        experimentId: e.data.experimentId,
        variants: e.data.variants.map((v) => v.id),
      };
    case 'experiment.evaluated':
      return { ...state, lastEvidence: fingerprint(e.data.arms) };
    case 'experiment.variant-stopped':
      return { ...state, stopped: [...state.stopped, e.data.variantId] };
    case 'experiment.variant-adopted':
      return { ...state, adoptedVariantId: e.data.variantId };
    case 'experiment.closed':
      return { ...state, status: 'closed', closeReason: e.data.reason };
  }
}

function fingerprint(arms: readonly VariantEvidence[]): string {
  return arms
    .map((a) =>
      [a.variantId, a.assignments, a.settled, a.recovered, a.netRevenue, a.messages, a.unsubscribes, a.complaints].join(
        ':',
      ),
    )
    .sort()
    .join('|');
}

const empty = (variantId: string): VariantEvidence => ({
  variantId,
  assignments: 0,
  settled: 0,
  recovered: 0,
  netRevenue: 0,
  netRevenueSquares: 0,
  discountCost: 0,
  messages: 0,
  unsubscribes: 0,
  complaints: 0,
});

function checkSettings(s: ExperimentSettings): void {
  const probability = (v: number, field: string, low = 0) => {
    if (!(v > low && v < 1)) throw new InvalidCommandError(`must be between ${low} and 1`, `settings.${field}`);
  };
  probability(s.adoptThreshold, 'adoptThreshold', 0.5);
  probability(s.guardrailConfidence, 'guardrailConfidence', 0.5);
  probability(s.maxUnsubscribeRate, 'maxUnsubscribeRate');
  probability(s.maxComplaintRate, 'maxComplaintRate');
  if (!Number.isInteger(s.minSamplesPerVariant) || s.minSamplesPerVariant < 1) {
    throw new InvalidCommandError('must be a positive integer', 'settings.minSamplesPerVariant');
  }
  if (!Number.isInteger(s.draws) || s.draws < 100)
    throw new InvalidCommandError('must be an integer ≥ 100', 'settings.draws');
}

/** A guardrail that stops this variant now, if any (unsubscribes first). */
export function guardrailBreach(
  e: VariantEvidence,
  settings: ExperimentSettings,
  seed: number,
): Omit<ExperimentVariantStoppedData, 'shopId' | 'experimentId' | 'at'> | undefined {
  if (e.messages < settings.guardrailMinMessages) return undefined;
  const checks: [Guardrail, number, number][] = [
    ['unsubscribe-rate', e.unsubscribes, settings.maxUnsubscribeRate],
    ['complaint-rate', e.complaints, settings.maxComplaintRate],
  ];
  for (const [guardrail, events, threshold] of checks) {
    const n = Math.min(events, e.messages);
    const above = probabilityRateAbove(
      n,
      e.messages,
      threshold,
      seededUniform(seedOf(`${guardrail}:${e.variantId}`, seed)),
      4 * settings.draws,
    );
    if (above >= settings.guardrailConfidence) {
      return {
        variantId: e.variantId,
        guardrail,
        rate: n / e.messages,
        threshold,
        probabilityAbove: above,
        messages: e.messages,
        events: n,
      };
    }
  }
  return undefined;
}

/**
 * The relative complaint guardrail: the variant's complaint rate against the pooled rate of the
 * `others`, both with a uniform Beta prior; it breaches when P(rate > others' rate) reaches
 * `guardrailConfidence` (Monte-Carlo, `4 × draws` paired draws from the command's seed), once the
 * variant and the others each have `guardrailMinMessages` messages. A complaint rate no higher
 * than the others' never breaches, so the variant with the fewest complaints is never stopped by it.
 */
export function complaintsAboveOthers(
  e: VariantEvidence,
  others: readonly VariantEvidence[],
  settings: ExperimentSettings,
  seed: number,
): Omit<ExperimentVariantStoppedData, 'shopId' | 'experimentId' | 'at'> | undefined {
  const messages = others.reduce((n, o) => n + o.messages, 0);
  if (e.messages < settings.guardrailMinMessages || messages < settings.guardrailMinMessages) return undefined;
  const complaints = Math.min(
    others.reduce((n, o) => n + Math.min(o.complaints, o.messages), 0),
    messages,
  );
  const mine = Math.min(e.complaints, e.messages);
  const rate = mine / e.messages;
  const othersRate = complaints / messages;
  if (rate <= othersRate) return undefined;
  const u = seededUniform(seedOf(`complaint-rate-vs-others:${e.variantId}`, seed));
  const draws = 4 * settings.draws;
  let above = 0;
  for (let d = 0; d < draws; d++) {
    if (sampleBeta(1 + mine, 1 + e.messages - mine, u) > sampleBeta(1 + complaints, 1 + messages - complaints, u)) {
      above++;
    }
  }
  const probabilityAbove = above / draws;
  if (probabilityAbove < settings.guardrailConfidence) return undefined;
  return {
    variantId: e.variantId,
    guardrail: 'complaint-rate-vs-others',
    rate,
    threshold: othersRate,
    probabilityAbove,
    messages: e.messages,
    events: mine,
  };
}

function decide(command: ExperimentCommand, state: ExperimentState): ExperimentEvent[] {
  if (state.status === 'closed') return [];
  const { shopId, experimentId, at, settings } = command;
  checkSettings(settings);
  if (!Number.isInteger(command.seed) || command.seed < 0)
    throw new InvalidCommandError('must be a non-negative integer', 'seed');
  const ref = { shopId, experimentId };
  const out: ExperimentEvent[] = [];
  let variants = state.variants;
  if (state.status === 'none') {
    const d = command.definition;
    if (d.variants.length < 2)
      throw new InvalidCommandError('an experiment needs at least 2 variants', 'definition.variants');
    out.push(event('experiment.opened', { ...ref, ...d, at }));
    variants = d.variants.map((v) => v.id);
  }
  const byId = new Map(command.evidence.map((e) => [e.variantId, e]));
  const stopped = new Set(state.stopped);
  // Guardrails: a harmful variant stops, whatever its revenue.
  for (const id of variants) {
    if (stopped.has(id)) continue;
    const breach = guardrailBreach(byId.get(id) ?? empty(id), settings, command.seed);
    if (breach === undefined) continue;
    out.push(event('experiment.variant-stopped', { ...ref, at, ...breach }));
    stopped.add(id);
  }
  // …and one that draws credibly more complaints than the variants still running beside it.
  for (const id of variants) {
    if (stopped.has(id)) continue;
    const others = variants.filter((o) => o !== id && !stopped.has(o)).map((o) => byId.get(o) ?? empty(o));
    if (others.length === 0) continue;
    const breach = complaintsAboveOthers(byId.get(id) ?? empty(id), others, settings, command.seed);
    if (breach === undefined) continue;
    out.push(event('experiment.variant-stopped', { ...ref, at, ...breach }));
    stopped.add(id);
  }
  const live = variants.filter((id) => !stopped.has(id));
  if (live.length <= 1) {
    out.push(
      event('experiment.closed', {
        ...ref,
        at,
        reason: live.length === 1 ? 'one-variant-left' : 'all-stopped',
        ...(live.length === 1 ? { variantId: live[0] } : {}),
      }),
    );
    return out;
  }
  const evidence = live.map((id) => byId.get(id) ?? empty(id));
  const posteriors = posteriorsOf(evidence);
  const draws = 10 * settings.draws;
  const best = probabilityBest(posteriors, seededUniform(seedOf('best', command.seed)), draws);
  const arms = evidence.map((e, i) => {
    const { variantId: _id, ...posterior } = posteriors[i];
    return { ...e, posterior, probabilityBest: best[i] };
  });
  if (fingerprint(arms) !== state.lastEvidence || out.length > 0) {
    out.push(event('experiment.evaluated', { ...ref, at, seed: command.seed, draws, arms }));
  }
  const leader = best.indexOf(Math.max(...best));
  const sampled = evidence.every((e) => e.settled >= settings.minSamplesPerVariant);
  if (sampled && best[leader] >= settings.adoptThreshold) {
    out.push(
      event('experiment.variant-adopted', {
        ...ref,
        at,
        variantId: live[leader],
        probabilityBest: best[leader],
        samples: evidence.reduce((n, e) => n + e.settled, 0),
        posteriors: posteriors as ArmPosterior[],
        threshold: settings.adoptThreshold,
      }),
    );
    out.push(event('experiment.closed', { ...ref, at, reason: 'adopted', variantId: live[leader] }));
  }
  return out;
}

export const experimentDecider: Decider<ExperimentState, ExperimentCommand, ExperimentEvent> = {
  decide,
  evolve: evolveExperiment,
  initialState: initialExperimentState,
};

/** What a recovery's start needs to know of the experiment, with the engine's settled evidence. */
export function experimentSnapshot(state: ExperimentState, evidence: readonly VariantEvidence[]): ExperimentSnapshot {
  return {
    status: state.status === 'closed' ? 'closed' : 'running',
    ...(state.adoptedVariantId !== undefined ? { adoptedVariantId: state.adoptedVariantId } : {}),
    stoppedVariantIds: state.stopped,
    arms: evidence.map((e) => ({
      variantId: e.variantId,
      settled: e.settled,
      recovered: e.recovered,
      netRevenue: e.netRevenue,
      netRevenueSquares: e.netRevenueSquares,
    })),
  };
}

/**
 * How a recovery starts when its cart is abandoned (by inactivity or the platform's word): holdout
 * and rollout draws, segmentation, the recorded features and score, the routing band, the
 * sequence (the band's or the catalogue's match), the support ticket (the band's, else for a
 * high-value cart), and the first step's timer. A cart abandoned again after new activity resumes instead.
 */
import { experimentSettingsOf, type RecoveryConfig } from './config';
import type { StartContext } from './recovery.messages';
import { featuresAtAbandonment, RECOVERY_FEATURES_SCHEMA } from './features';
import { explainScore, scoreFeatures } from './score';
import { routeByScore, type RecordedScore } from './routing';
import { gte, isDecimalString } from './money';
import { drawArm, type RecoveryArm } from './arms';
import { configForPolicyArm, drawPolicyArm, drawsPolicyArm, policyControlOf, type PolicyArm } from './policy-arm';
import { isValidTimeZone, localParts } from './quiet-hours';
import { reachableChannels } from './recovery-state';
import { later, scheduleNext, ticketPaused, type Emitter } from './recovery-schedule';
import { segment, type Segment } from './segments';
import { sendTimeArm } from './send-time';
import { selectSequence, type SequenceDefinition } from './sequences';
import { assignVariant, experimentIdFor, experimentSegment } from './variants';
import { RecoveryInputError, toIso, toMs } from './time';
import type { IsoTimestamp } from './types';

export function startRecovery(
  shopConfig: RecoveryConfig,
  out: Emitter,
  at: IsoTimestamp,
  abandonedAt: IsoTimestamp,
  source: 'inactivity' | 'platform',
  ctx: StartContext | undefined,
): void {
  const s = out.state;
  if (s.status === 'running' && s.awaitingAbandonment) {
    out.emit({ type: 'recovery.abandoned-again', at, abandonedAt, source });
    if (!ticketPaused(shopConfig, out.state)) {
      out.emit({ type: 'recovery.resumed', at, cause: 're-abandoned' });
      scheduleNext(shopConfig, out, at);
    }
    return;
  }
  if (s.status !== 'watching' || s.cart === undefined) return;
  const cart = s.cart;
  if (reachableChannels(s).length === 0 || cart.items.length === 0) return;
  if (ctx === undefined) throw new RecoveryInputError('a start context is required to start a recovery');
  const random = ctx.random;
  if (!(random >= 0 && random < 1)) throw new RecoveryInputError('random must be in [0, 1)');
  const { holdout, mode, arm, propensity } = drawArm(shopConfig, random);
  out.emit({
    type: 'recovery.started',
    at,
    abandonedAt,
    source,
    cartValue: cart.value,
    currency: cart.currency,
    random,
    holdout,
    mode,
    arm,
    propensity,
    holdoutPercent: shopConfig.holdoutPercent,
    rolloutPercent: shopConfig.rolloutPercent,
    shopTimeZone: ctx.shopTimeZone,
  });
  // The policy control arm (RFC 0021), from its own draw; a holdout stays untouched. Every decision
  // from here on (and the recovery's later ones: ./process-manager.ts) runs under the arm's settings.
  let policyArm: PolicyArm | undefined;
  if (!holdout && drawsPolicyArm(shopConfig)) {
    const draw = ctx.policyRandom;
    if (draw === undefined || !(draw >= 0 && draw < 1)) {
      throw new RecoveryInputError('policyRandom must be in [0, 1) when the shop runs a policy control arm');
    }
    const drawn = drawPolicyArm(policyControlOf(shopConfig).percent, draw);
    policyArm = drawn.arm;
    out.emit({ type: 'recovery.policy-arm-assigned', at, ...drawn });
  }
  const config = configForPolicyArm(shopConfig, policyArm);
  // Send-time optimisation's randomised arm (RFC 0012), from its own draw; a holdout stays untouched.
  if (config.sendTime.enabled && !holdout) {
    const draw = ctx.sendTimeRandom;
    if (draw === undefined || !(draw >= 0 && draw < 1)) {
      throw new RecoveryInputError('sendTimeRandom must be in [0, 1) when send-time optimisation is on');
    }
    const { arm, propensity } = sendTimeArm(draw, config.sendTime.armPercent);
    out.emit({
      type: 'recovery.send-time-assigned',
      at,
      arm,
      propensity,
      draw,
      armPercent: config.sendTime.armPercent,
    });
  }
  const zone = cart.timeZone !== undefined && isValidTimeZone(cart.timeZone) ? cart.timeZone : ctx.shopTimeZone;
  const segmentation = segment(
    ctx.customer,
    {
      value: cart.value,
      categories: [
        ...new Set(
          cart.items.flatMap((i) => [
            ...(i.categories ?? []),
            ...(s.productCategories?.[i.productId] ?? ctx.productCategories?.[i.productId] ?? []),
          ]),
        ),
      ].sort(),
      itemCount: cart.items.reduce((n, i) => n + i.quantity, 0),
      device: cart.device ?? 'unknown',
      ...(cart.trafficSource !== undefined ? { trafficSource: cart.trafficSource } : {}),
      ...(cart.unknownInputs !== undefined ? { unknownInputs: cart.unknownInputs } : {}),
      ...(isValidTimeZone(zone) ? { hourOfDay: localParts(toMs(abandonedAt), zone).hour } : {}),
      ...(cart.checkoutStage !== undefined ? { checkoutStage: cart.checkoutStage } : {}),
    },
    config.segments,
  );
  out.emit({ type: 'recovery.segmented', at, segmentation });
  const features = featuresAtAbandonment(segmentation, abandonedAt, cart.currency, zone);
  out.emit({ type: 'recovery.features-recorded', at, featureSchema: RECOVERY_FEATURES_SCHEMA, features });
  // The score (RFC 0011), then the routing band it puts the recovery in (./routing.ts).
  let recorded: RecordedScore | undefined;
  let topFeatures: { feature: string; contribution: number }[] | undefined;
  if (ctx.scoring !== undefined) {
    const scored = scoreFeatures(ctx.scoring, features);
    if (scored.kind === 'scored') {
      const { kind: _kind, ...result } = scored;
      out.emit({ type: 'recovery.scored', at, ...result });
      recorded = { kind: 'scored', score: scored.score, modelVersion: scored.modelVersion };
      topFeatures = explainScore(ctx.scoring, features);
    } else {
      out.emit({
        type: 'recovery.score-unavailable',
        at,
        reason: scored.reason,
        outcomesNeeded: scored.outcomesNeeded,
      });
      recorded = { kind: 'unavailable', outcomesNeeded: scored.outcomesNeeded };
    }
  }
  const route =
    recorded === undefined ? undefined : routeByScore(config.routing, recorded, cart.value, config.ticketThreshold);
  const bandSequence =
    route?.sequenceId === undefined ? undefined : ctx.sequences.sequences.find((q) => q.id === route.sequenceId);
  const sequence = bandSequence ?? selectSequence(segmentation.segments, cart, ctx.sequences);
  const wantsTicket =
    route !== undefined ? route.wantsTicket : isDecimalString(cart.value) && gte(cart.value, config.ticketThreshold);
  const ticket =
    sequence !== undefined && !holdout && mode.kind === 'live' && !out.state.ticketRequested && wantsTicket;
  if (route !== undefined && recorded !== undefined) {
    const { highProbability, lowProbability, highValue } = config.routing;
    out.emit({
      type: 'recovery.routed',
      at,
      band: route.band,
      reason: route.reason,
      ...(recorded.kind === 'scored'
        ? { score: recorded.score, modelVersion: recorded.modelVersion }
        : { outcomesNeeded: recorded.outcomesNeeded }),
      cartValue: cart.value,
      currency: cart.currency,
      thresholds: { highProbability, lowProbability, highValue },
      ...(sequence !== undefined ? { sequenceId: sequence.id } : {}),
      sequenceSource: bandSequence !== undefined ? 'band' : 'catalogue-match',
      ...(route.sequenceId !== undefined && bandSequence === undefined
        ? { sequenceFallback: 'not-in-catalogue' as const }
        : {}),
      ticket,
      ...(topFeatures !== undefined ? { topFeatures } : {}),
    });
  }
  if (sequence === undefined) {
    out.emit({ type: 'recovery.ended', at, reason: 'completed' });
    return;
  }
  out.emit({
    type: 'recovery.sequence-selected',
    at,
    sequenceId: sequence.id,
    sequenceVersion: sequence.version,
    catalogueVersion: ctx.sequences.version,
    steps: sequence.steps,
  });
  if (!holdout) assignVariants(config, out, at, sequence, segmentation.segments, ctx, arm);
  if (holdout) {
    out.emit({ type: 'recovery.assigned-holdout', at, random, holdoutPercent: config.holdoutPercent });
    const lastDelay = sequence.steps[sequence.steps.length - 1]?.delayMs ?? 0;
    const dueAt = later(at, toIso(toMs(abandonedAt) + lastDelay + config.completeAfterLastStepMs));
    out.timer(at, dueAt, 'holdout-end');
    return;
  }
  if (ticket) {
    out.emit({
      type: 'recovery.ticket-requested',
      at,
      idempotencyKey: `${s.recoveryId}:ticket`,
      cartValue: cart.value,
      currency: cart.currency,
    });
  }
  scheduleNext(config, out, at);
}

/**
 * One `recovery.variant-assigned` per step with variants when the shop's experiments are on
 * (RFC 0016); the holdout never gets one. Each step's draw comes from its own stream of the
 * context's seed, so the assignment of one step does not depend on the others'.
 */
function assignVariants(
  config: RecoveryConfig,
  out: Emitter,
  at: IsoTimestamp,
  sequence: SequenceDefinition,
  segments: readonly Segment[],
  ctx: StartContext,
  arm: RecoveryArm,
): void {
  const settings = experimentSettingsOf(config);
  if (!settings.enabled || !sequence.steps.some((s) => (s.variants ?? []).length > 0)) return;
  const experiments = ctx.experiments;
  if (experiments === undefined || !Number.isInteger(experiments.seed) || experiments.seed < 0) {
    throw new RecoveryInputError('experiments.seed must be a non-negative integer when the shop runs experiments');
  }
  const segment = experimentSegment(segments);
  for (const step of sequence.steps) {
    if (step.variants === undefined || step.variants.length === 0) continue;
    const experimentId = experimentIdFor(sequence.id, sequence.version, step.index, segment);
    const assignment = assignVariant({
      step: step.index,
      variants: step.variants,
      experimentId,
      segment,
      snapshot: experiments.experiments[experimentId],
      seed: experiments.seed,
      draws: settings.draws,
      at,
    });
    if (assignment !== undefined) out.emit({ type: 'recovery.variant-assigned', at, ...assignment, arm });
  }
}

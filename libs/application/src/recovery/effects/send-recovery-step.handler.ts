/**
 * A due step: replays a recorded attempt of the same request (R2), gathers the facts, asks the
 * store about the lines ({@link CheckInventory}), runs the pure pre-send checks and, when they say
 * send, hands over to {@link MessageDelivery}. Whatever happens is fed back as one `StepOutcome`.
 */
import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  checkBeforeSend,
  chooseIncentive,
  customerDecider,
  customerStream,
  detectCodeFarming,
  discountBlocked,
  type CodeFarmingEvidence,
  chooseSendTime,
  controlArmChoice,
  type RecoveryConfig,
  type RecoveryState,
  type SendTimeChoice,
  type SendTimeInput,
  isCartConverted,
  OUTSIDE_ERROR_DEFER_REASONS,
  outcomeFromCheck,
  sendFactsFromState,
  stepSendTimeArm,
  type Channel,
  type RecoveryEvent,
  type SoldOutLine,
  type StepOutcomeResult,
} from '@reclaim/domain';
import type { Queryable } from '../db';
import { engagementHours, engagementZone } from '../engagement-hours';
import {
  codeFarmingHistory,
  consentOf,
  cryptoRandom,
  customerHistoryFacts,
  incentiveEvidence,
  learnedEvidence,
} from '../facts';
import { runDecider } from '../../shared/run-decider';
import { configForPolicyArm, parseRecoveryId, responseSegmentOf } from '@reclaim/domain';
import { loadRecovery, type LoadedRecovery } from '../recovery-stream';
import { CheckInventory, SendRecoveryStep, type EffectOutcome } from './effect-commands';
import { EffectContext, latestOfStep } from './effect-context';
import { EffectRecords } from './effect-records';
import { MessageDelivery } from './message-delivery';
import { lookUpCustomerTickets } from './support-lookup';

@CommandHandler(SendRecoveryStep)
export class SendRecoveryStepHandler implements ICommandHandler<SendRecoveryStep> {
  constructor(
    @Inject(EffectContext) private readonly ctx: EffectContext,
    @Inject(EffectRecords) private readonly records: EffectRecords,
    @Inject(MessageDelivery) private readonly delivery: MessageDelivery,
    @Inject(CommandBus) private readonly bus: CommandBus,
  ) {}

  async execute({ request, step }: SendRecoveryStep): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    const recoveryId = request.streamId;
    const loaded = await loadRecovery(deps.store, recoveryId);
    const due = latestOfStep(loaded, 'recovery.step-due', step);
    if (due === undefined || due.id !== request.requestId || loaded.state.steps[step]?.status !== 'due') {
      return { kind: 'skipped', reason: 'stale-request' };
    }
    const dueEvent = loaded.events[loaded.recorded.indexOf(due)];
    if (dueEvent.type !== 'recovery.step-due') return { kind: 'skipped', reason: 'stale-request' };

    // R2: an attempt of this very request was started before (we crashed, or its outcome was not fed back).
    for (const row of await this.records.ofStep(recoveryId, step)) {
      if (row.requestId !== request.requestId) continue;
      const channel = channelOfKey(row.idempotencyKey);
      if (row.status === 'started') {
        await this.records.finish(row.idempotencyKey, request.requestId, { kind: 'unknown' }, this.ctx.now());
        return this.report(request, step, channel, { kind: 'unknown' });
      }
      if (row.outcome !== null) return this.report(request, step, channel, row.outcome);
    }

    let { state } = loaded;
    const ids = parseRecoveryId(recoveryId);
    if (ids === undefined) return { kind: 'skipped', reason: 'not-a-recovery' };
    if (state.status === 'ended') {
      if (state.endReason === 'purchased') {
        return this.report(request, step, undefined, { kind: 'stopped', reason: 'purchased' });
      }
      if (state.endReason === 'opted-out') {
        return this.report(request, step, undefined, { kind: 'skipped', reason: 'channel-opted-out' });
      }
      return { kind: 'skipped', reason: 'recovery-ended' };
    }
    const shop = await deps.shops.get(ids.shopId);
    if (!shop) {
      deps.log?.warn({ recoveryId, step }, 'step due for a shop that no longer exists: dropped');
      return { kind: 'skipped', reason: 'shop-gone' };
    }
    const customerKey = state.cart?.customerKey;
    const facts = await this.ctx.customerFacts(ids.shopId, ids.cartId, customerKey);
    const pm = await this.ctx.pmFor(ids.shopId);
    // The recovery's own settings: the fixed rules on the policy control arm (RFC 0021), else the shop's.
    const config = configForPolicyArm(pm.config, state.policyArm);
    // The customer's own open tickets, read now (short timeout) and recorded before the decision,
    // which reads the record; a retry of this request reads its record instead of asking again.
    if (deps.supportLookup !== undefined && !supportCheckedSince(loaded, dueEvent, step)) {
      const contact = await this.ctx.openContact(ids.shopId, facts);
      const input = await lookUpCustomerTickets(
        deps.supportLookup,
        contact?.email ?? undefined,
        state,
        config.supportTicketMatch,
        () => this.ctx.now(),
        { trigger: 'send', step },
      );
      if (input !== undefined) {
        await this.ctx.feed(request, input, 'support', ids.shopId);
        state = (await loadRecovery(deps.store, recoveryId)).state;
      }
    }
    const history = await customerHistoryFacts(deps.pool, ids.shopId, customerKey, recoveryId);
    // The checkout's address first, else the customer profile's, else their latest order's, else the shop's zone.
    const customerZone = state.cart?.timeZone ?? facts.customer?.timeZone ?? history.lastOrderTimeZone;
    // Send-time optimisation (RFC 0012): a follow-up's time is chosen once and recorded before the
    // checks, which wait for it; a retried request reads the record instead of choosing again.
    if (stepSendTimeArm(state, step) !== undefined && step >= 1 && state.sendTimes?.[step] === undefined) {
      const channels = reachable(state, dueEvent.definition.channels, deps.channels);
      const choice = await chooseStepSendTime(deps.pool, state, step, this.ctx.now().toISOString(), {
        config,
        customerKey,
        customerZone,
        channel: channels[0],
      });
      if (choice !== undefined) {
        await this.ctx.feed(
          request,
          { type: 'RecordSendTime', at: this.ctx.now().toISOString(), step, choice },
          'send-time',
        );
        state = (await loadRecovery(deps.store, recoveryId)).state;
      }
    }
    const sendFacts = sendFactsFromState(state, dueEvent);
    const recordedAlternatives = alternativesRecordedFor(loaded, request.requestId);
    const inventory = await this.bus.execute(
      new CheckInventory(
        shop,
        sendFacts.items,
        { recoveryId, step, deferrals: consecutiveOutsideDeferrals(loaded, step) },
        config.alternatives,
        recordedAlternatives ?? [],
      ),
    );
    if (inventory.kind === 'deferred') {
      // Fed back into the recovery from the first failure: the history, the dashboard's attention
      // list and /health see it; the recovery's timer brings the step back at `until`.
      return this.report(request, step, undefined, {
        kind: 'deferred',
        until: inventory.until.toISOString(),
        reason: inventory.reason,
        detail: inventory.detail,
      });
    }
    const soldOut = inventory.kind === 'checked' ? inventory.soldOut : [];
    if (soldOut.length > 0 && recordedAlternatives === undefined) {
      // What the store answered about the sold-out lines goes on the log before the decision that uses it.
      await this.ctx.feed(
        request,
        { type: 'RecordAlternatives', at: this.ctx.now().toISOString(), step, lines: soldOut },
        'alternatives',
      );
    }
    // Discounts only where they pay (RFC 0017): a code farmer is recorded on their stream and gets
    // no code; otherwise the recovery's incentive level is chosen once, before the checks read it.
    const codeFarming = await this.codeFarming(
      request,
      ids.shopId,
      customerKey,
      dueEvent.definition.discountPercent,
      config,
    );
    if (
      dueEvent.definition.discountPercent > 0 &&
      state.incentive === undefined &&
      state.cart !== undefined &&
      discountBlocked(
        { codeFarming, lastDiscountRecoveryAt: history.lastDiscountRecoveryAt, now: this.ctx.now().toISOString() },
        config,
      ) === undefined
    ) {
      const settings = config.incentives;
      const segment = responseSegmentOf(state.segments);
      const learnedPolicy = settings.policy === 'learned';
      const choice = chooseIncentive({
        ladder: (state.sequence?.steps ?? []).map((s) => s.discountPercent),
        stepPercent: dueEvent.definition.discountPercent,
        cartValue: state.cart.value,
        segment,
        settings,
        ...(learnedPolicy
          ? {
              evidence: await incentiveEvidence(
                deps.pool,
                ids.shopId,
                segment,
                this.ctx.now(),
                config.attributionWindowMs,
              ),
              draw: (deps.incentiveRandom ?? cryptoRandom)(),
            }
          : {}),
      });
      await this.ctx.feed(
        request,
        { type: 'ChooseIncentive', at: this.ctx.now().toISOString(), step, choice },
        'incentive',
      );
      state = (await loadRecovery(deps.store, recoveryId)).state;
    }
    const unavailableChannels = (['email', 'sms', 'push'] as const).filter((c) => deps.channels[c] === undefined);
    // What the shop's recorded outcomes say about this customer's segment per channel (RFC 0013).
    const learned = await learnedEvidence(
      deps.pool,
      ids.shopId,
      responseSegmentOf(state.segments),
      this.ctx.now(),
      config.fatigue.machineOpenWithinMs / 1000,
    );
    const result = checkBeforeSend(
      {
        ...sendFacts,
        // The checkout's address first, else the customer profile's, else their latest order's, else the shop's zone.
        ...(customerZone !== undefined ? { customerTimeZone: customerZone } : {}),
        ...history,
        purchased: sendFacts.purchased || isCartConverted(facts.cart),
        consent: consentOf(facts.customer, facts.cart),
        now: this.ctx.now().toISOString(),
        stock: [...inventory.lines],
        ...(unavailableChannels.length > 0 ? { unavailableChannels } : {}),
        learned,
        // One uniform per check: the channel choice samples with it and records it (with its propensity).
        channelDraw: (deps.channelRandom ?? cryptoRandom)(),
        ...(codeFarming !== undefined ? { codeFarming } : {}),
        ...(state.incentive !== undefined ? { incentive: state.incentive } : {}),
      },
      config,
    );
    const noSend = outcomeFromCheck(result);
    if (noSend !== undefined || result.decision !== 'send') {
      const channel = result.decision === 'defer' ? result.channel : undefined;
      return this.report(request, step, channel, noSend ?? { kind: 'skipped', reason: 'no-consent' });
    }
    const outcome = await this.delivery.deliver(
      { request, step, shop, cartId: ids.cartId, state, facts, soldOut },
      result,
    );
    return this.report(request, step, result.channel, outcome);
  }

  /**
   * The code-farming evidence of the customer at a step that carries a discount (RFC 0017), recorded
   * on their stream (`customer.code-farming-detected`) when it is new; `undefined` when they are not one.
   */
  private async codeFarming(
    request: SendRecoveryStep['request'],
    shopId: string,
    customerKey: string | undefined,
    stepPercent: number,
    config: RecoveryConfig,
  ): Promise<CodeFarmingEvidence | undefined> {
    const settings = config.incentives.codeFarming;
    if (stepPercent <= 0 || customerKey === undefined || !settings.enabled) return undefined;
    const now = this.ctx.now();
    const since = new Date(now.getTime() - settings.windowDays * 86_400_000);
    const history = await codeFarmingHistory(this.ctx.deps.pool, shopId, customerKey, since);
    const evidence = detectCodeFarming(history, settings, now.toISOString());
    if (evidence === undefined) return undefined;
    const causationId = `${request.requestId}:code-farming`;
    await runDecider(
      this.ctx.deps.store,
      customerStream(shopId, customerKey),
      customerDecider,
      { type: 'RecordCodeFarming', shopId, customerKey, causationId, receivedAt: now.toISOString(), evidence },
      { causationId, metadata: { shopId } },
    );
    return evidence;
  }

  /** Feeds the step's outcome back into the recovery and says what it means for the request. */
  private async report(
    request: SendRecoveryStep['request'],
    step: number,
    channel: Channel | undefined,
    outcome: StepOutcomeResult,
  ): Promise<EffectOutcome> {
    await this.ctx.feedStepOutcome(request, step, channel, outcome);
    return effectOutcomeOf(outcome);
  }
}

/** A step's outcome as the request's outcome (the recovery owns what follows: retries, next step). */
export function effectOutcomeOf(outcome: StepOutcomeResult): EffectOutcome {
  switch (outcome.kind) {
    case 'sent':
      return { kind: 'sent', ref: outcome.messageId };
    case 'failed':
      return { kind: 'failed', error: outcome.error ?? 'failed', retryable: outcome.retryable };
    case 'unknown':
      return { kind: 'unknown' };
    case 'skipped':
      return { kind: 'skipped', reason: outcome.reason };
    case 'stopped':
      return { kind: 'skipped', reason: outcome.reason };
    case 'deferred':
      // The recovery moves the step to `until` with a new timer: this request is settled.
      return { kind: 'skipped', reason: `deferred:${outcome.reason}` };
  }
}

/** The sold-out lines recorded for this very request (`<requestId>:alternatives`), if any. */
export function alternativesRecordedFor(loaded: LoadedRecovery, requestId: string): readonly SoldOutLine[] | undefined {
  const causation = `${requestId}:alternatives`;
  for (let i = loaded.recorded.length - 1; i >= 0; i--) {
    const e = loaded.events[i];
    if (loaded.recorded[i]?.metadata?.causationId === causation && e?.type === 'recovery.alternatives-checked') {
      return e.lines;
    }
  }
  return undefined;
}

/**
 * How many times in a row this step was deferred by an outside error, counted back from the latest
 * event of the step (its `step-due` events do not break the run; any other outcome does).
 */
export function consecutiveOutsideDeferrals(loaded: LoadedRecovery, step: number): number {
  let n = 0;
  for (let i = loaded.events.length - 1; i >= 0; i--) {
    const e = loaded.events[i];
    if (!('step' in e) || e.step !== step) continue;
    if (e.type === 'recovery.step-due' || e.type === 'recovery.timer-scheduled') continue;
    if (e.type === 'recovery.step-deferred' && OUTSIDE_ERROR_DEFER_REASONS.includes(e.reason)) {
      n++;
      continue;
    }
    break;
  }
  return n;
}

/** Whether the customer's tickets were already looked up for this due step (a retried request). */
function supportCheckedSince(loaded: LoadedRecovery, due: RecoveryEvent, step: number): boolean {
  for (let i = loaded.events.length - 1; i >= 0; i--) {
    const e = loaded.events[i];
    if (e === due) return false;
    if (e.type === 'recovery.support-checked' && e.trigger === 'send' && e.step === step) return true;
  }
  return false;
}

/** The step's channels the cart can reach and the appliance can send on, SMS first (as the pre-send checks try them). */
function reachable(
  state: RecoveryState,
  channels: readonly Channel[],
  configured: Readonly<Partial<Record<Channel, unknown>>>,
): Channel[] {
  return (['sms', 'email'] as const).filter(
    (c) =>
      channels.includes(c) &&
      state.cart?.reach[c] === true &&
      !state.revoked.includes(c) &&
      configured[c] !== undefined,
  );
}

/**
 * The send time of follow-up `step` from the customer's and the shop's engagement profiles: the
 * best allowed hour on the `on` arm, nominal (with what would have been chosen) on the `off` arm.
 */
export async function chooseStepSendTime(
  q: Queryable,
  state: RecoveryState,
  step: number,
  now: string,
  opts: {
    readonly config: RecoveryConfig;
    readonly customerKey: string | undefined;
    readonly customerZone: string | undefined;
    readonly channel: Channel | undefined;
  },
): Promise<SendTimeChoice | undefined> {
  const definition = state.sequence?.steps[step];
  const arm = stepSendTimeArm(state, step);
  if (definition === undefined || state.abandonedAt === undefined || arm === undefined) return undefined;
  const zone = engagementZone(opts.customerZone, state.shopTimeZone);
  const profiles = await engagementHours.profiles(q, state.shopId ?? '', opts.customerKey);
  const input: SendTimeInput = {
    abandonedAt: state.abandonedAt,
    delayMs: definition.delayMs,
    now,
    settings: opts.config.sendTime,
    timeZone: zone.timeZone,
    timeZoneSource: zone.source,
    sendWindow: opts.channel === undefined || opts.channel === 'push' ? null : opts.config.sendWindows[opts.channel],
    customer: profiles.customer,
    shop: profiles.shop,
  };
  return arm === 'on' ? chooseSendTime(input) : controlArmChoice(input);
}

function channelOfKey(key: string): Channel {
  return key.endsWith(':sms') ? 'sms' : 'email';
}

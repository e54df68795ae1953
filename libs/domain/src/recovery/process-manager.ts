/**
 * The recovery process manager as a decider on the shared `Decider` shape: its state is its own
 * stream `recovery-<shop>-<cart>`, `decide(command, state) → events` (enveloped, like every
 * stream's), `evolve(state, event) → state`, `initialState()`. Timers are requested as
 * `recovery.timer-scheduled` events; only the latest one is current, so a superseded or duplicate
 * `TimerFired` produces nothing.
 *
 * Split by concern: state and evolve (./recovery-state.ts), starting (./recovery-start.ts), step
 * and reconciliation outcomes (./step-outcomes.ts), scheduling (./recovery-schedule.ts), questions
 * the application asks of a state (./recovery-queries.ts), and here the routing of each command.
 */
import type { Decider } from '../shared/decider';
import { defaultRecoveryConfig, type RecoveryConfig } from './config';
import type { ProductCategories, RecoveryInput, StoredRecoveryEvent } from './recovery.messages';
import { BACK_IN_STOCK_FIRST_STEP } from './alternatives';
import { segmentsFromEnrichment } from './enrichment';
import { deadLetterRetryRefusal, stepSendTimeArm } from './recovery-queries';
import { end, Emitter, scheduleNext, stepDue } from './recovery-schedule';
import { startRecovery } from './recovery-start';
import { evolveRecovery, initialRecoveryState, reachableChannels, type RecoveryState } from './recovery-state';
import { onOutcome, onReconciliation } from './step-outcomes';
import { onSupportLookup } from './support-decisions';
import { isValidTimeZone } from './quiet-hours';
import type { SendTimeArm, SendTimeChoice } from './send-time';
import { incentiveLevels, ladderIsArm, type IncentiveChoice } from './incentives';
import { RecoveryInputError, toIso, toMs } from './time';
import { effectIdempotencyKey, recoveryIdFor } from './types';
import { configForPolicyArm } from './policy-arm';

/** At most this many categories are kept per product, each at most 100 characters. */
const MAX_CATEGORIES = 50;

function validProductId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 200) {
    throw new RecoveryInputError(`${field} must be a non-empty product id`);
  }
  return id;
}

/** Names trimmed, blanks dropped, duplicates removed, sorted; a product id or a name that is not text is refused, naming the field. */
export function validProductCategories(products: readonly ProductCategories[]): ProductCategories[] {
  return products.map((p, i) => {
    const productId = validProductId(p.productId, `products[${i}].productId`);
    if (!Array.isArray(p.categories)) throw new RecoveryInputError(`products[${i}].categories must be a list`);
    const names = p.categories.map((c, j) => {
      if (typeof c !== 'string') throw new RecoveryInputError(`products[${i}].categories[${j}] must be text`);
      return c.trim().slice(0, 100);
    });
    const categories = [...new Set(names.filter((c) => c !== ''))].sort().slice(0, MAX_CATEGORIES);
    return { productId, categories, found: p.found !== false };
  });
}

export interface RecoveryDecider extends Decider<RecoveryState, RecoveryInput, StoredRecoveryEvent> {
  readonly config: RecoveryConfig;
}

export function createRecoveryDecider(shopConfig: RecoveryConfig = defaultRecoveryConfig): RecoveryDecider {
  function decide(input: RecoveryInput, state: RecoveryState): StoredRecoveryEvent[] {
    // A recovery on the policy control arm decides under the fixed rules (RFC 0021), whatever the shop's settings.
    const config = configForPolicyArm(shopConfig, state.policyArm);
    const out = new Emitter(state);
    switch (input.type) {
      case 'CartActivity': {
        if (state.status === 'ended') break;
        if (state.lastActivityAt !== undefined && toMs(input.at) <= toMs(state.lastActivityAt)) break;
        const recoveryId = state.recoveryId || recoveryIdFor(input.shopId, input.cartId);
        if (state.status === 'running' && !state.awaitingAbandonment) {
          out.emit({ type: 'recovery.paused', at: input.at, reason: 'cart-activity' });
        }
        out.emit(
          {
            type: 'recovery.activity-recorded',
            at: input.at,
            shopId: input.shopId,
            cartId: input.cartId,
            cart: input.cart,
          },
          recoveryId,
        );
        if (out.state.status !== 'holdout' && reachableChannels(out.state).length > 0) {
          out.timer(input.at, toIso(toMs(input.at) + config.abandonAfterMs), 'abandonment');
        }
        break;
      }
      case 'CartAbandonedByPlatform': {
        if (state.status === 'idle' && input.cart !== undefined) {
          out.emit(
            {
              type: 'recovery.activity-recorded',
              at: input.at,
              shopId: input.shopId,
              cartId: input.cartId,
              cart: input.cart,
            },
            recoveryIdFor(input.shopId, input.cartId),
          );
        }
        startRecovery(config, out, input.at, input.at, 'platform', input.start);
        break;
      }
      case 'TimerFired': {
        const timer = state.timer;
        if (timer === undefined || timer.timerId !== input.timerId || state.status === 'ended') break;
        // R8: never treat a timer as due before its due time; ask for it again.
        if (toMs(input.now) < toMs(timer.dueAt)) {
          out.timer(input.now, timer.dueAt, timer.purpose, timer.step);
          break;
        }
        switch (timer.purpose) {
          case 'abandonment':
            startRecovery(config, out, input.now, timer.dueAt, 'inactivity', input.start);
            break;
          case 'step':
          case 'retry':
            if (timer.step !== undefined) stepDue(out, input.now, timer.step, timer.dueAt);
            break;
          case 'reconcile': {
            const step = timer.step === undefined ? undefined : state.steps[timer.step];
            if (timer.step === undefined || step?.channel === undefined) break;
            out.emit({
              type: 'recovery.reconciliation-requested',
              at: input.now,
              step: timer.step,
              channel: step.channel,
              idempotencyKey: effectIdempotencyKey(state.recoveryId, timer.step, step.channel),
              attempt: step.reconciliations + 1,
            });
            break;
          }
          case 'holdout-end':
            end(out, input.now, 'holdout-completed');
            break;
          case 'completion':
            end(out, input.now, 'completed');
            break;
        }
        break;
      }
      case 'StepOutcome': {
        onOutcome(config, out, input.step, input.channel, input.at, input.outcome);
        // A line the message named as sold out is watched: one back-in-stock message when it returns.
        // So is every line of a cart found all sold out (nothing to send now; the return is the news).
        const sent = input.outcome.kind === 'sent' ? input.outcome.sent : undefined;
        const allSoldOut = input.outcome.kind === 'skipped' && input.outcome.reason === 'all-out-of-stock';
        const told =
          out.state.steps[input.step]?.status === 'sent'
            ? (sent?.leftOut ?? [])
            : allSoldOut && out.state.steps[input.step]?.status === 'skipped'
              ? (state.soldOutByStep?.[input.step] ?? []).map((l) => l.lineId)
              : [];
        for (const lineId of told) {
          const line = state.soldOutByStep?.[input.step]?.find((l) => l.lineId === lineId);
          if (line === undefined || (out.state.watches ?? []).some((w) => w.lineId === lineId)) continue;
          out.emit({
            type: 'recovery.back-in-stock-watched',
            at: input.at,
            step: input.step,
            lineId,
            productId: line.productId,
            ...(line.variantId !== undefined ? { variantId: line.variantId } : {}),
          });
        }
        break;
      }
      case 'RestockReported': {
        // Not after a purchase, an opt-out or a deleted cart: the message would have nobody to help.
        if (state.status === 'ended' && state.endReason !== 'completed') break;
        for (const watch of state.watches ?? []) {
          if (watch.status !== 'watching' || watch.productId !== input.productId) continue;
          const variant =
            watch.variantId !== undefined ? input.variants.find((v) => v.variantId === watch.variantId) : undefined;
          const back = variant !== undefined ? variant.available : input.available !== false;
          if (!back) continue;
          out.emit({
            type: 'recovery.back-in-stock-due',
            at: input.at,
            lineId: watch.lineId,
            productId: watch.productId,
            ...(watch.variantId !== undefined ? { variantId: watch.variantId } : {}),
          });
        }
        break;
      }
      case 'BackInStockRequested': {
        const watch = (state.watches ?? []).find((w) => w.lineId === input.lineId);
        if (watch === undefined || watch.requested === true || watch.status === 'notified') break;
        out.emit({ type: 'recovery.back-in-stock-requested', at: input.at, step: input.step, lineId: input.lineId });
        break;
      }
      case 'BackInStockOutcome': {
        const watch = (state.watches ?? []).find((w) => w.lineId === input.lineId);
        if (watch?.status !== 'due') break;
        const o = input.outcome;
        if (o.kind === 'sent') {
          out.emit({
            type: 'recovery.back-in-stock-sent',
            at: input.at,
            lineId: input.lineId,
            step: o.step,
            channel: o.channel,
            messageId: o.messageId,
          });
        } else if (o.kind === 'skipped') {
          out.emit({
            type: 'recovery.back-in-stock-skipped',
            at: input.at,
            lineId: input.lineId,
            reason: o.reason,
            ...(o.detail !== undefined ? { detail: o.detail } : {}),
          });
        } else {
          out.emit({
            type: 'recovery.back-in-stock-deferred',
            at: input.at,
            lineId: input.lineId,
            until: o.until,
            reason: o.reason,
          });
        }
        break;
      }
      case 'ReconciliationResult':
        onReconciliation(config, out, input);
        break;
      case 'CartPurchased':
        if (state.status !== 'idle' && state.status !== 'ended') end(out, input.at, 'purchased', input.orderId);
        break;
      case 'CartDeleted':
        if (state.status !== 'idle' && state.status !== 'ended') end(out, input.at, 'deleted');
        break;
      case 'ConsentRevoked': {
        if (state.status === 'idle' || state.status === 'ended') break;
        if (input.channel === 'all') {
          end(out, input.at, 'opted-out');
          break;
        }
        if (!state.revoked.includes(input.channel)) {
          out.emit({ type: 'recovery.channel-revoked', at: input.at, channel: input.channel });
        }
        if (reachableChannels(out.state).length === 0) end(out, input.at, 'opted-out');
        break;
      }
      case 'TicketOpened': {
        if (state.status === 'idle' || state.status === 'ended' || state.openTicketId === input.ticketId) break;
        // The appliance's own ticket asks an agent to reach out; it never switches the copy.
        out.emit({ type: 'recovery.ticket-opened', at: input.at, ticketId: input.ticketId });
        break;
      }
      case 'TicketSkipped': {
        if (state.status === 'idle' || !state.ticketRequested || state.ticketSkipped) break;
        if (state.openTicketId !== undefined) break;
        out.emit({ type: 'recovery.ticket-skipped', at: input.at, reason: input.reason });
        break;
      }
      case 'EffectParked': {
        if (state.status === 'idle') break;
        out.emit({
          type: 'recovery.effect-parked',
          at: input.at,
          effect: input.effect,
          ...(input.step !== undefined ? { step: input.step } : {}),
          attempts: input.attempts,
          error: input.error,
        });
        break;
      }
      case 'EffectDeferred': {
        if (state.status === 'idle') break;
        out.emit({ type: 'recovery.effect-deferred', at: input.at, effect: input.effect, detail: input.detail });
        break;
      }
      case 'DeliveryReported': {
        if (engagementStatus(state, input) !== 'applies') break;
        out.emit({
          type: 'recovery.delivery-reported',
          at: input.at,
          step: input.step,
          channel: input.channel,
          status: input.status,
          ...(input.errorCode !== undefined ? { errorCode: input.errorCode } : {}),
        });
        break;
      }
      case 'MessageEngagement': {
        // Recorded even after the recovery ended (a click can lead to the purchase that ended it).
        // Before the send is recorded it is not lost: the application holds it (engagementStatus).
        if (engagementStatus(state, input) !== 'applies') break;
        if (input.kind === 'opened') {
          out.emit({ type: 'recovery.message-opened', at: input.at, step: input.step, channel: input.channel });
        } else if (input.kind === 'replied') {
          out.emit({ type: 'recovery.message-replied', at: input.at, step: input.step, channel: input.channel });
        } else {
          out.emit({
            type: 'recovery.message-clicked',
            at: input.at,
            step: input.step,
            channel: input.channel,
            ...(input.targetHost !== undefined ? { targetHost: input.targetHost } : {}),
          });
        }
        break;
      }
      case 'OrderAttributed': {
        if (state.status === 'idle' || (state.attributedOrders ?? []).includes(input.orderId)) break;
        const { type: _type, ...body } = input;
        out.emit({ ...body, type: 'recovery.order-attributed' });
        break;
      }
      case 'RetryDeadLetter': {
        if (deadLetterRetryRefusal(state, input.step) !== undefined) break;
        const current = state.steps[input.step];
        if (current.channel === undefined || current.deadLetterReason === undefined) break;
        out.emit({
          type: 'recovery.dead-letter-retried',
          at: input.at,
          step: input.step,
          channel: current.channel,
          previousReason: current.deadLetterReason,
          previousAttempts: current.attempts,
          resume: current.deadLetterReason === 'unreconcilable' ? 'reconcile' : 'resend',
        });
        scheduleNext(config, out, input.at);
        break;
      }
      case 'RecordEnrichment': {
        // Once per recovery, and only for one that started (a late answer after the end is still kept).
        if (state.status === 'idle' || state.status === 'watching' || state.enrichment !== undefined) break;
        out.emit({
          type: 'recovery.enriched',
          at: input.at,
          enrichment: input.enrichment,
          segmentsAdded: segmentsFromEnrichment(input.enrichment, state.segments, config.segments),
        });
        break;
      }
      case 'RecordEnrichmentUnavailable': {
        if (state.status === 'idle' || state.status === 'watching' || state.enrichment !== undefined) break;
        out.emit({
          type: 'recovery.enrichment-unavailable',
          at: input.at,
          source: input.source,
          reason: input.reason,
          ...(input.code !== undefined ? { code: input.code } : {}),
        });
        break;
      }
      case 'ChooseIncentive': {
        // Once per recovery, at a due step whose definition carries a discount (RFC 0017).
        const definition = state.sequence?.steps[input.step];
        if (state.status !== 'running' || state.steps[input.step]?.status !== 'due' || state.incentive !== undefined) {
          break;
        }
        if (definition === undefined || definition.discountPercent <= 0) break;
        checkIncentiveChoice(state.sequence?.steps.map((s) => s.discountPercent) ?? [], input.choice);
        out.emit({ type: 'recovery.incentive-chosen', at: input.at, step: input.step, ...input.choice });
        break;
      }
      case 'RecordSendTime': {
        // Once per follow-up and abandonment, for a due step of a recovery with a send-time arm.
        const current = state.steps[input.step];
        const arm = stepSendTimeArm(state, input.step);
        if (state.status !== 'running' || current?.status !== 'due' || arm === undefined) break;
        if (state.sendTimes?.[input.step] !== undefined) break;
        const definition = state.sequence?.steps[input.step];
        if (definition === undefined || state.abandonedAt === undefined) break;
        checkSendTime(config, state.abandonedAt, definition.delayMs, arm, input.choice);
        out.emit({ type: 'recovery.send-time-chosen', at: input.at, step: input.step, ...input.choice });
        break;
      }
      case 'RecordAlternatives': {
        // Recorded for a step that is due (the decision that reads it follows), never for nothing.
        if (state.status !== 'running' || state.steps[input.step]?.status !== 'due' || input.lines.length === 0) break;
        out.emit({ type: 'recovery.alternatives-checked', at: input.at, step: input.step, lines: input.lines });
        break;
      }
      case 'RecordProductCategories': {
        if (state.status === 'idle' || state.status === 'ended') break;
        const products = validProductCategories(input.products);
        if (products.length === 0) break;
        out.emit({ type: 'recovery.categories-recorded', at: input.at, products });
        break;
      }
      case 'RecordCategoriesUnavailable': {
        if (state.status === 'idle' || state.status === 'ended') break;
        out.emit({
          type: 'recovery.categories-unavailable',
          at: input.at,
          productIds: input.productIds.map((id, i) => validProductId(id, `productIds[${i}]`)),
          reason: input.reason,
          ...(input.code !== undefined ? { code: input.code } : {}),
        });
        break;
      }
      case 'TicketClosed': {
        if (state.status === 'ended' || state.openTicketId !== input.ticketId) break;
        out.emit({ type: 'recovery.ticket-closed', at: input.at, ticketId: input.ticketId });
        break;
      }
      case 'RecordSupportLookup':
        onSupportLookup(config, out, input);
        break;
    }
    return out.events;
  }

  return { config: shopConfig, initialState: initialRecoveryState, decide, evolve: evolveRecovery };
}

/** A level of the recovery's own ladder (0 % included) with a propensity in (0, 1]; else refused, naming the field. */
function checkIncentiveChoice(ladder: readonly number[], choice: IncentiveChoice): void {
  const levels = incentiveLevels(ladder);
  if (!levels.includes(choice.percent)) {
    throw new RecoveryInputError(
      `choice.percent ${choice.percent} is not a level of the ladder (${levels.join(', ')})`,
    );
  }
  if (!(choice.propensity > 0 && choice.propensity <= 1)) {
    throw new RecoveryInputError('choice.propensity must be in (0, 1]');
  }
  if (choice.mode === 'fixed' && choice.propensity !== 1) {
    throw new RecoveryInputError('choice.propensity must be 1 for the fixed ladder');
  }
  if (choice.mode === 'ladder' && !ladderIsArm(ladder)) {
    throw new RecoveryInputError(`choice.mode 'ladder' needs a ladder of several percents (${levels.join(', ')})`);
  }
}

/**
 * A send time never earlier than the nominal minimum after abandonment (`min(delay, minDelay)`), and
 * on the `off` arm never earlier than nominal; a choice that breaks this is refused, naming the field.
 */
function checkSendTime(
  config: RecoveryConfig,
  abandonedAt: string,
  delayMs: number,
  arm: SendTimeArm,
  choice: SendTimeChoice,
): void {
  const start = toMs(abandonedAt);
  const chosen = toMs(choice.chosenAt);
  toMs(choice.nominalAt);
  const floor = arm === 'off' ? start + delayMs : start + Math.min(delayMs, config.sendTime.minDelayMs);
  if (chosen < floor) {
    throw new RecoveryInputError(
      `choice.chosenAt ${choice.chosenAt} is earlier than the nominal minimum ${toIso(floor)}`,
    );
  }
  if (!isValidTimeZone(choice.timeZone)) throw new RecoveryInputError('choice.timeZone must be an IANA time zone');
}

/**
 * Whether an engagement (open, click, delivery status) can be recorded on the recovery now:
 * `applies` when its message's send is recorded (`sent`, or `late` after the end) and this kind
 * was not recorded yet for it; `duplicate` when it was; `awaiting-send` when the send is not
 * recorded yet (an open or click can arrive milliseconds after the provider accepted the message,
 * before the outcome is fed back) — the application keeps it and applies it once it is.
 */
export function engagementStatus(
  state: RecoveryState,
  input: Extract<RecoveryInput, { type: 'MessageEngagement' }> | Extract<RecoveryInput, { type: 'DeliveryReported' }>,
): 'applies' | 'duplicate' | 'awaiting-send' {
  const step = state.status === 'idle' ? undefined : state.steps[input.step];
  // A back-in-stock message (numbered beside the steps) counts once its send is recorded.
  const backInStock =
    input.step >= BACK_IN_STOCK_FIRST_STEP &&
    state.watches?.[input.step - BACK_IN_STOCK_FIRST_STEP]?.status === 'notified';
  if (!backInStock && (step === undefined || (step.status !== 'sent' && step.status !== 'late'))) {
    return 'awaiting-send';
  }
  const kind = input.type === 'MessageEngagement' ? input.kind : `delivery-${input.status}`;
  return (state.engagement ?? []).includes(`${kind}:${input.step}:${input.channel}`) ? 'duplicate' : 'applies';
}

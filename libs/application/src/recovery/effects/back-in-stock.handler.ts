/**
 * A watched sold-out line was reported back by the store (`recovery.back-in-stock-due`): ask the
 * store whether it really is (stock for the line's quantity, current price), run the same pre-send
 * checks as every step — purchase, consent and channel, one active recovery, frequency cap and
 * fatigue, quiet hours, shadow mode — and send one back-in-stock message through the same crash-safe
 * delivery. Whatever happens is fed back as a `BackInStockOutcome`: sent, skipped (`still-sold-out`
 * keeps the watch), or deferred (quiet hours, cap, store unavailable: the request comes back then).
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  configForPolicyArm,
  type Channel,
  BACK_IN_STOCK_FIRST_STEP,
  checkBeforeSend,
  isCartConverted,
  parseRecoveryId,
  type RecoveryInput,
  type RecoveryItem,
  type SequenceStep,
  type StepOutcomeResult,
} from '@reclaim/domain';
import { describeProviderError, PermanentProviderError } from '@reclaim/ports';
import { consentOf, customerHistoryFacts } from '../facts';
import { loadRecovery } from '../recovery-stream';
import { storeProblem } from './check-inventory.handler';
import { SendBackInStock, type EffectOutcome } from './effect-commands';
import { EffectContext } from './effect-context';
import { outsideRetryDelayMs } from './effect-deps';
import type { EffectRequest } from './effect-queue';
import { EffectRecords } from './effect-records';
import { MessageDelivery } from './message-delivery';

/** The template of the back-in-stock message (a shop may override it like any other). */
export const BACK_IN_STOCK_TEMPLATE = 'back-in-stock';

type BackInStockResult = Extract<RecoveryInput, { type: 'BackInStockOutcome' }>['outcome'];

@CommandHandler(SendBackInStock)
export class SendBackInStockHandler implements ICommandHandler<SendBackInStock> {
  constructor(
    @Inject(EffectContext) private readonly ctx: EffectContext,
    @Inject(EffectRecords) private readonly records: EffectRecords,
    @Inject(MessageDelivery) private readonly delivery: MessageDelivery,
  ) {}

  async execute({ request, lineId }: SendBackInStock): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    const recoveryId = request.streamId;
    const { state } = await loadRecovery(deps.store, recoveryId);
    const watches = state.watches ?? [];
    const index = watches.findIndex((w) => w.lineId === lineId);
    const watch = watches[index];
    if (watch === undefined || watch.status !== 'due') return { kind: 'skipped', reason: 'stale-request' };
    const step = BACK_IN_STOCK_FIRST_STEP + index;

    // R2: an attempt of this very request was started before (a crash, or its outcome was not fed back).
    for (const row of await this.records.ofStep(recoveryId, step)) {
      if (row.requestId !== request.requestId) continue;
      if (row.status === 'started') {
        await this.records.finish(row.idempotencyKey, request.requestId, { kind: 'unknown' }, this.ctx.now());
        return this.report(request, lineId, step, { kind: 'unknown' });
      }
      if (row.outcome !== null) return this.report(request, lineId, step, row.outcome);
    }

    const ids = parseRecoveryId(recoveryId);
    const shop = ids !== undefined ? await deps.shops.get(ids.shopId) : undefined;
    const cart = state.cart;
    if (ids === undefined || !shop || cart === undefined || state.startedAt === undefined || !state.abandonedAt) {
      return this.feed(request, lineId, { kind: 'skipped', reason: 'recovery-gone' });
    }
    const item: RecoveryItem | undefined = cart.items.find((i) => i.lineId === lineId);
    if (item === undefined) return this.feed(request, lineId, { kind: 'skipped', reason: 'line-gone' });

    // The webhook said it is back; the store says whether it is, for this quantity and at what price.
    let lines;
    try {
      lines = await deps.commerce.stock(shop, [item]);
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        return this.feed(request, lineId, {
          kind: 'skipped',
          reason: 'store-refused',
          detail: describeProviderError(err),
        });
      }
      const until = new Date(this.ctx.now().getTime() + outsideRetryDelayMs(deps, 0, undefined));
      await this.ctx.feed(
        request,
        {
          type: 'BackInStockOutcome',
          at: this.ctx.now().toISOString(),
          lineId,
          outcome: { kind: 'deferred', until: until.toISOString(), reason: 'store-unavailable' },
        },
        `deferred:${until.toISOString()}`,
      );
      deps.log?.warn(
        { recoveryId, lineId, detail: storeProblem(err, shop.apiUrl) },
        'back-in-stock: store unavailable',
      );
      return { kind: 'deferred', until, reason: 'store-unavailable' };
    }
    const line = lines.find((l) => l.lineId === lineId);
    if (line === undefined || !line.available) {
      return this.feed(request, lineId, { kind: 'skipped', reason: 'still-sold-out' });
    }

    const customerKey = cart.customerKey;
    const facts = await this.ctx.customerFacts(ids.shopId, ids.cartId, customerKey);
    const history = await customerHistoryFacts(deps.pool, ids.shopId, customerKey, recoveryId);
    const pm = await this.ctx.pmFor(ids.shopId);
    const definition: SequenceStep = {
      index: step,
      delayMs: 0,
      channels: ['email'],
      discountPercent: 0,
      template: BACK_IN_STOCK_TEMPLATE,
    };
    const now = this.ctx.now().toISOString();
    const unavailableChannels = (['email', 'sms'] as const).filter((c) => deps.channels[c] === undefined);
    const result = checkBeforeSend(
      {
        recoveryId,
        step: definition,
        mode: state.mode ?? { kind: 'live' },
        now,
        dueAt: now,
        abandonedAt: state.abandonedAt,
        startedAt: state.startedAt,
        ...history,
        purchased: (state.status === 'ended' && state.endReason === 'purchased') || isCartConverted(facts.cart),
        reach: cart.reach,
        revokedChannels: state.revoked,
        consent: consentOf(facts.customer, facts.cart),
        ticketOpen: false,
        ...((cart.timeZone ?? facts.customer?.timeZone ?? history.lastOrderTimeZone) !== undefined
          ? { customerTimeZone: cart.timeZone ?? facts.customer?.timeZone ?? history.lastOrderTimeZone }
          : {}),
        shopTimeZone: state.shopTimeZone ?? shop.timezone,
        currency: cart.currency,
        items: [item],
        stock: [line],
        ...(unavailableChannels.length > 0 ? { unavailableChannels } : {}),
      },
      // The recovery's own settings: the fixed rules on the policy control arm (RFC 0021).
      configForPolicyArm(pm.config, state.policyArm),
    );
    if (result.decision === 'defer') {
      const until = new Date(result.until);
      await this.ctx.feed(
        request,
        {
          type: 'BackInStockOutcome',
          at: now,
          lineId,
          outcome: { kind: 'deferred', until: result.until, reason: result.reason },
        },
        `deferred:${result.until}`,
      );
      return { kind: 'deferred', until, reason: result.reason };
    }
    if (result.decision === 'stop') return this.feed(request, lineId, { kind: 'skipped', reason: result.reason });
    if (result.decision === 'skip') return this.feed(request, lineId, { kind: 'skipped', reason: result.reason });
    const outcome = await this.delivery.deliver({ request, step, shop, cartId: ids.cartId, state, facts }, result);
    return this.report(request, lineId, step, outcome, result.channel);
  }

  private report(
    request: EffectRequest,
    lineId: string,
    step: number,
    outcome: StepOutcomeResult,
    channel: Channel = 'email',
  ): Promise<EffectOutcome> {
    switch (outcome.kind) {
      case 'sent':
        return this.feed(request, lineId, { kind: 'sent', step, channel, messageId: outcome.messageId });
      case 'failed':
        return this.feed(request, lineId, {
          kind: 'skipped',
          reason: 'send-failed',
          ...(outcome.error !== undefined ? { detail: outcome.error } : {}),
        });
      case 'unknown':
        return this.feed(request, lineId, { kind: 'skipped', reason: 'outcome-unknown' });
      case 'skipped':
      case 'stopped':
        return this.feed(request, lineId, { kind: 'skipped', reason: outcome.reason });
      case 'deferred':
        return this.feed(request, lineId, { kind: 'skipped', reason: outcome.reason });
    }
  }

  private async feed(request: EffectRequest, lineId: string, outcome: BackInStockResult): Promise<EffectOutcome> {
    await this.ctx.feed(
      request,
      { type: 'BackInStockOutcome', at: this.ctx.now().toISOString(), lineId, outcome },
      'outcome',
    );
    if (outcome.kind === 'sent') return { kind: 'sent', ref: outcome.messageId };
    if (outcome.kind === 'skipped') return { kind: 'skipped', reason: outcome.reason };
    return { kind: 'deferred', until: new Date(outcome.until), reason: outcome.reason };
  }
}

/**
 * R2: a send whose outcome is unknown is settled by asking the channel (`ChannelPort.lookup` with
 * the same idempotency key), never by sending again. The answer goes back as `ReconciliationResult`.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { effectIdempotencyKey } from '@reclaim/domain';
import { type ChannelLookupResult, describeProviderError } from '@reclaim/ports';
import { loadRecovery } from '../recovery-stream';
import { ReconcileUnknownOutcome, type EffectOutcome } from './effect-commands';
import { EffectContext, latestOfStep } from './effect-context';
import { EffectRecords } from './effect-records';

@CommandHandler(ReconcileUnknownOutcome)
export class ReconcileUnknownOutcomeHandler implements ICommandHandler<ReconcileUnknownOutcome> {
  constructor(
    @Inject(EffectContext) private readonly ctx: EffectContext,
    @Inject(EffectRecords) private readonly records: EffectRecords,
  ) {}

  async execute({ request, step, channel }: ReconcileUnknownOutcome): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    const loaded = await loadRecovery(deps.store, request.streamId);
    const asked = latestOfStep(loaded, 'recovery.reconciliation-requested', step);
    if (asked === undefined || asked.id !== request.requestId || loaded.state.steps[step]?.status !== 'reconciling') {
      return { kind: 'skipped', reason: 'stale-request' };
    }
    const key = effectIdempotencyKey(request.streamId, step, channel);
    const port = deps.channels[channel];
    let found: ChannelLookupResult = { status: 'unknown' };
    if (port) {
      try {
        found = await port.lookup(key);
      } catch (err) {
        deps.log?.warn({ key, error: describeProviderError(err) }, 'reconciliation lookup failed: still unknown');
      }
    }
    const discountCode = await this.records.discountCodeOf(key);
    await this.records.markReconciled(key, found.status);
    await this.ctx.feed(
      request,
      {
        type: 'ReconciliationResult',
        step,
        channel,
        at: this.ctx.now().toISOString(),
        result:
          found.status === 'sent'
            ? { kind: 'sent', messageId: found.messageId, ...(discountCode !== undefined ? { discountCode } : {}) }
            : { kind: found.status },
      },
      'result',
    );
    if (found.status === 'sent') return { kind: 'sent', ref: found.messageId };
    return found.status === 'unknown' ? { kind: 'unknown' } : { kind: 'skipped', reason: 'not-sent' };
  }
}

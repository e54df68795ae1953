/**
 * Marketing profile sync (Klaviyo): the recovery as it is now (segments, status, step, cart value)
 * is pushed to the customer's profile. A late or repeated push carries the latest context: the push
 * is an upsert, so retrying is always safe.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { describeProviderError, PermanentProviderError, RetryableProviderError } from '@reclaim/ports';
import { parseRecoveryId } from '@reclaim/domain';
import { loadRecovery } from '../recovery-stream';
import { SyncProfile, type EffectOutcome } from './effect-commands';
import { EffectContext } from './effect-context';
import { EFFECT_DEFAULTS } from './effect-deps';

@CommandHandler(SyncProfile)
export class SyncProfileHandler implements ICommandHandler<SyncProfile> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ request }: SyncProfile): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    if (!deps.profileSync) return { kind: 'skipped', reason: 'no-profile-sync' };
    const ids = parseRecoveryId(request.streamId);
    if (ids === undefined) return { kind: 'skipped', reason: 'not-a-recovery' };
    const { state } = await loadRecovery(deps.store, request.streamId);
    const snapshot = state.cart;
    const facts = await this.ctx.customerFacts(ids.shopId, ids.cartId, snapshot?.customerKey);
    // Opened just before the call, never kept.
    const contact = await this.ctx.openContact(ids.shopId, facts);
    if (!contact?.email) return { kind: 'skipped', reason: 'no-email-address' };
    const lastStep = state.steps.reduce<number | undefined>((n, s, i) => (s.status !== 'pending' ? i : n), undefined);
    try {
      await deps.profileSync.push(contact.email, {
        segments: state.segments,
        recoveryId: request.streamId,
        recoveryStatus: state.status === 'ended' && state.endReason ? `ended:${state.endReason}` : state.status,
        ...(lastStep !== undefined ? { step: lastStep } : {}),
        ...(snapshot !== undefined ? { cartValue: snapshot.value, currency: snapshot.currency } : {}),
        at: this.ctx.now(),
      });
      return { kind: 'sent' };
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        deps.log?.warn({ recoveryId: request.streamId, error: describeProviderError(err) }, 'profile push refused');
        return { kind: 'failed', error: describeProviderError(err), retryable: false };
      }
      if (err instanceof RetryableProviderError) {
        await this.ctx.recordDeferral(request, 'profile', describeProviderError(err), ids.shopId);
        return {
          kind: 'deferred',
          until: new Date(this.ctx.now().getTime() + (err.retryAfterMs ?? EFFECT_DEFAULTS.retryAfterMs)),
          reason: `profile: ${describeProviderError(err)}`,
        };
      }
      throw err; // unknown outcome: the push is an upsert, retrying is safe
    }
  }
}

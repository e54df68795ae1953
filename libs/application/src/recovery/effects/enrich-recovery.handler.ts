/**
 * Enrichment (Klaviyo) as a recorded fact: as a recovery starts, what the merchant's marketing
 * platform knows about the shopper is read once, with a short timeout, and recorded on the recovery
 * stream (`recovery.enriched`), or why it could not be (`recovery.enrichment-unavailable` with the
 * reason). Either way the request is settled: the recovery goes on with or without the facts, and
 * every later decision (segments, message, ticket) reads the record, never the network.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { EnrichmentUnavailableReason } from '@reclaim/domain';
import { parseRecoveryId } from '@reclaim/domain';
import { describeProviderError, PermanentProviderError, RetryableProviderError } from '@reclaim/ports';
import { loadRecovery } from '../recovery-stream';
import { EnrichRecovery, type EffectOutcome } from './effect-commands';
import { EffectContext } from './effect-context';

/** The reason recorded for a failed read (never the error's message: it can echo an address). */
export function enrichmentFailureOf(err: unknown): { reason: EnrichmentUnavailableReason; code?: string } {
  const code = (err as { code?: unknown }).code;
  const safe = typeof code === 'string' ? code.replace(/[^a-z0-9_.-]/gi, '').slice(0, 64) : undefined;
  const withCode = (reason: EnrichmentUnavailableReason) => ({ reason, ...(safe ? { code: safe } : {}) });
  if (err instanceof RetryableProviderError) {
    if (safe !== undefined && /timeout|timed.?out|abort/i.test(safe)) return withCode('timeout');
    if (safe === 'throttled' || safe === '429') return withCode('throttled');
    return withCode('error');
  }
  if (err instanceof PermanentProviderError) return withCode('refused');
  return { reason: 'error', code: describeProviderError(err) };
}

@CommandHandler(EnrichRecovery)
export class EnrichRecoveryHandler implements ICommandHandler<EnrichRecovery> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ request }: EnrichRecovery): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    const ids = parseRecoveryId(request.streamId);
    if (ids === undefined) return { kind: 'skipped', reason: 'not-a-recovery' };
    const { state } = await loadRecovery(deps.store, request.streamId);
    if (state.enrichment !== undefined) return { kind: 'skipped', reason: `already-${state.enrichment}` };
    const enricher = deps.enricher;
    const unavailable = async (reason: EnrichmentUnavailableReason, code?: string): Promise<EffectOutcome> => {
      await this.ctx.feed(
        request,
        {
          type: 'RecordEnrichmentUnavailable',
          at: this.ctx.now().toISOString(),
          source: enricher?.source ?? 'klaviyo',
          reason,
          ...(code !== undefined ? { code } : {}),
        },
        'enrichment',
        ids.shopId,
      );
      return { kind: 'skipped', reason: `enrichment-unavailable:${reason}` };
    };
    if (!enricher) return unavailable('not-configured');
    const facts = await this.ctx.customerFacts(ids.shopId, ids.cartId, state.cart?.customerKey);
    // Opened just before the call, never kept.
    const contact = await this.ctx.openContact(ids.shopId, facts);
    if (!contact?.email) return unavailable('no-email-address');
    let enrichment;
    try {
      enrichment = await enricher.enrich(contact.email);
    } catch (err) {
      const failure = enrichmentFailureOf(err);
      deps.log?.warn(
        { recoveryId: request.streamId, reason: failure.reason, error: describeProviderError(err) },
        'enrichment unavailable',
      );
      return unavailable(failure.reason, failure.code);
    }
    await this.ctx.feed(
      request,
      { type: 'RecordEnrichment', at: this.ctx.now().toISOString(), enrichment },
      'enrichment',
      ids.shopId,
    );
    return { kind: 'sent' };
  }
}

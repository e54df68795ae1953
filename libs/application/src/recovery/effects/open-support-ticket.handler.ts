/** A high-value cart becomes a help-desk ticket (Zendesk, Gorgias), once per recovery. */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type {
  CartSnapshot,
  CustomerFeatures,
  ProfileEnrichment,
  RecoveryEvent,
  RecoveryState,
  TicketSkipReason,
} from '@reclaim/domain';
import { isPublicHttpUrl } from '../../messages/url-safety';
import { describeProviderError, PermanentProviderError, RetryableProviderError } from '@reclaim/ports';
import { describeRouting, parseRecoveryId } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import { loadRecovery, type LoadedRecovery } from '../recovery-stream';
import { OpenSupportTicket, type EffectOutcome } from './effect-commands';
import { EffectContext } from './effect-context';
import { EFFECT_DEFAULTS } from './effect-deps';
import type { EffectRequest } from './effect-queue';

@CommandHandler(OpenSupportTicket)
export class OpenSupportTicketHandler implements ICommandHandler<OpenSupportTicket> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ request, idempotencyKey }: OpenSupportTicket): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    let loaded = await loadRecovery(deps.store, request.streamId);
    if (loaded.events.some((e) => e.type === 'recovery.ticket-opened')) return { kind: 'skipped', reason: 'opened' };
    const ids = parseRecoveryId(request.streamId);
    const snapshot = loaded.state.cart;
    if (ids === undefined || snapshot === undefined) return { kind: 'skipped', reason: 'no-cart' };
    if (!deps.tickets) return this.skip(request, ids.shopId, 'no-ticket-provider');
    // The agent gets the marketing platform's facts: the enrichment requested at the same start
    // has its own short timeout, so wait for its record a little (real time), then go without.
    if (deps.enricher !== undefined && loaded.state.enrichment === undefined) {
      loaded = await waitForEnrichment(deps.store, request.streamId, loaded);
    }
    const enriched = loaded.events.find((e) => e.type === 'recovery.enriched');
    const enrichment = enriched?.type === 'recovery.enriched' ? enriched.enrichment : undefined;
    const segmented = loaded.events.find((e) => e.type === 'recovery.segmented');
    const routedEvent = loaded.events.find((e) => e.type === 'recovery.routed');
    const routed = routedEvent?.type === 'recovery.routed' ? routedEvent : undefined;
    const customer = segmented?.type === 'recovery.segmented' ? segmented.segmentation.customer : undefined;
    const facts = await this.ctx.customerFacts(ids.shopId, ids.cartId, snapshot.customerKey);
    const contact = await this.ctx.openContact(ids.shopId, facts);
    let ticketId: string;
    try {
      ticketId = (
        await deps.tickets.open({
          idempotencyKey,
          shopId: ids.shopId,
          cartId: ids.cartId,
          subject:
            routed?.band === 'personal' && routed.score !== undefined
              ? `Likely to buy (${Math.round(routed.score * 100)}%): abandoned cart worth ${snapshot.value} ${snapshot.currency}`
              : `Abandoned cart worth ${snapshot.value} ${snapshot.currency}`,
          body: ticketBody(
            ids.cartId,
            snapshot,
            loaded.state,
            facts.cart.snapshot?.checkoutUrl,
            enrichment,
            customer,
            routed,
          ),
          ...(contact?.email ? { customerEmail: contact.email } : {}),
        })
      ).ticketId;
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        deps.log?.warn({ recoveryId: request.streamId, error: describeProviderError(err) }, 'ticket refused');
        return this.skip(request, ids.shopId, 'ticket-refused');
      }
      if (err instanceof RetryableProviderError) {
        await this.ctx.recordDeferral(request, 'ticket', describeProviderError(err), ids.shopId);
        return {
          kind: 'deferred',
          until: new Date(this.ctx.now().getTime() + (err.retryAfterMs ?? EFFECT_DEFAULTS.retryAfterMs)),
          reason: `ticket: ${describeProviderError(err)}`,
        };
      }
      throw err; // unknown: the idempotency key makes the retry safe
    }
    await this.ctx.feed(
      request,
      { type: 'TicketOpened', ticketId, at: this.ctx.now().toISOString() },
      'opened',
      ids.shopId,
    );
    return { kind: 'sent', ref: ticketId };
  }

  private async skip(request: EffectRequest, shopId: string, reason: TicketSkipReason): Promise<EffectOutcome> {
    await this.ctx.feed(
      request,
      { type: 'TicketSkipped', reason, at: this.ctx.now().toISOString() },
      'skipped',
      shopId,
    );
    return { kind: 'skipped', reason };
  }
}

/** How long (real time) a ticket waits for the enrichment recorded at the recovery's start, then goes without. */
export const ENRICHMENT_WAIT_MS = 3_000;

async function waitForEnrichment(store: EventStore, streamId: string, loaded: LoadedRecovery): Promise<LoadedRecovery> {
  for (
    const deadline = Date.now() + ENRICHMENT_WAIT_MS;
    loaded.state.enrichment === undefined && Date.now() < deadline;
  ) {
    await new Promise((r) => setTimeout(r, 100));
    loaded = await loadRecovery(store, streamId);
  }
  return loaded;
}

/** The customer's history as recorded when the recovery started (no personal data: counts, amounts, dates). */
export function customerHistoryLines(c: CustomerFeatures | undefined, currency: string): string[] {
  if (c === undefined) return [];
  return [
    'Customer history:',
    `- orders: ${c.ordersCount}, total spent ${c.totalSpent} ${currency}${c.discountOrdersCount > 0 ? `, ${c.discountOrdersCount} with a discount code` : ''}`,
    ...(c.lastPurchaseAt !== undefined ? [`- last purchase: ${c.lastPurchaseAt.slice(0, 10)}`] : []),
    `- earlier abandoned carts: ${c.previousAbandonments}, recovered: ${c.previousRecoveries}`,
    ...(c.categoriesBought.length > 0 ? [`- categories bought: ${c.categoriesBought.join(', ')}`] : []),
  ];
}

type RoutedEvent = Extract<RecoveryEvent, { type: 'recovery.routed' }>;

/**
 * Why the agent gets this cart (routing by score): the recorded score, the model version, the band
 * and its thresholds, and the features that raised or lowered the score most (the model card's names).
 */
export function routingLines(r: RoutedEvent | undefined): string[] {
  if (r === undefined || r.score === undefined) return [];
  return [
    `Recovery score: ${(r.score * 100).toFixed(1)}% chance of an order (model v${r.modelVersion ?? '?'}).`,
    `Why this ticket: ${describeRouting(r)}.`,
    ...(r.topFeatures !== undefined && r.topFeatures.length > 0
      ? [
          'What drove the score (log-odds contribution):',
          ...r.topFeatures.map(
            (f) => `- ${f.feature}: ${f.contribution >= 0 ? '+' : '−'}${Math.abs(f.contribution).toFixed(2)}`,
          ),
        ]
      : []),
  ];
}

/** The marketing platform's recorded facts, for the agent (no personal data: amounts, dates, group names). */
export function enrichmentLines(e: ProfileEnrichment | undefined): string[] {
  if (e === undefined) return [];
  if (!e.profileFound) return [`${e.source}: no profile for this shopper`];
  const p = e.predictive ?? {};
  const groups = [...e.segments, ...e.lists].map((g) => g.name).filter((n) => n !== '');
  return [
    `${e.source === 'klaviyo' ? 'Klaviyo' : e.source}:`,
    ...(p.historicClv !== undefined ? [`- historic CLV: ${p.historicClv}`] : []),
    ...(p.predictedClv !== undefined ? [`- predicted CLV: ${p.predictedClv}`] : []),
    ...(p.churnProbability !== undefined ? [`- churn probability: ${Math.round(p.churnProbability * 100)}%`] : []),
    ...(p.expectedDateOfNextOrder !== undefined
      ? [`- expected next order: ${p.expectedDateOfNextOrder.slice(0, 10)}`]
      : []),
    ...(groups.length > 0 ? [`- segments and lists: ${groups.join(', ')}`] : []),
    ...(e.consent.email !== undefined ? [`- e-mail consent: ${e.consent.email}`] : []),
    ...(e.lastEventAt !== undefined ? [`- last activity: ${e.lastEventAt.slice(0, 10)}`] : []),
  ];
}

function ticketBody(
  cartId: string,
  snapshot: CartSnapshot,
  state: RecoveryState,
  checkoutUrl: string | undefined,
  enrichment: ProfileEnrichment | undefined,
  customer: CustomerFeatures | undefined,
  routed?: RoutedEvent,
): string {
  return [
    `A high-value cart was abandoned: ${snapshot.value} ${snapshot.currency}.`,
    ...routingLines(routed),
    `Cart: ${cartId}`,
    // R22: a link from the webhook data reaches the agent only when it is a public http(s) address.
    ...(checkoutUrl && isPublicHttpUrl(checkoutUrl) ? [`Checkout: ${checkoutUrl}`] : []),
    ...(state.segments.length > 0 ? [`Segments: ${state.segments.join(', ')}`] : []),
    ...customerHistoryLines(customer, snapshot.currency),
    ...((state.customerTickets ?? []).length > 0
      ? [`The customer's own open tickets about this cart: ${(state.customerTickets ?? []).join(', ')}`]
      : []),
    ...enrichmentLines(enrichment),
    '',
    'Items:',
    ...snapshot.items.map((i) => `- ${i.quantity} × ${i.title ?? i.productId} @ ${i.unitPrice} ${snapshot.currency}`),
  ].join('\n');
}

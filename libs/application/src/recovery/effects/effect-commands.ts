/**
 * The effects the recovery process manager asks for, as `@nestjs/cqrs` commands. The effect runner
 * builds one from each claimed `engine.effect_queue` row and dispatches it on the `CommandBus`; the
 * handler answers with an explicit {@link EffectOutcome}, which tells the runner what to do with
 * the durable request. The bus itself is in memory and carries nothing that must survive a crash:
 * the queue row stays claimed (leased) until the runner settles it from the outcome.
 */
import { Command } from '@nestjs/cqrs';
import type { AlternativeRules, Channel, RecoveryItem, SoldOutLine, StockLine } from '@reclaim/domain';
import type { RecoveryShop } from '@reclaim/ports';
import type { EffectRequest } from './effect-queue';

/**
 * What a handler did with its request:
 * - `sent`: the effect went out (message, ticket, profile push, reconciled result) and is recorded;
 * - `skipped{reason}`: nothing to do (stale request, no provider, recovery ended, a pre-send check
 *   said no or moved the step): recorded where the recovery needs it;
 * - `unknown`: it may or may not have gone out; recorded, and the recovery asks for reconciliation;
 * - `failed{error}`: the attempt failed and is recorded; the recovery decides about retrying;
 * - `deferred{until}`: not attempted yet (the outside system asked to wait): the request itself is
 *   claimable again at `until`.
 * The first four settle the queue row; `deferred` puts it back. A handler that throws (store down)
 * is retried by the runner with back-off.
 */
export type EffectOutcome =
  | { readonly kind: 'sent'; readonly ref?: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'failed'; readonly error: string; readonly retryable: boolean }
  | { readonly kind: 'deferred'; readonly until: Date; readonly reason: string };

/** A step of the sequence is due (`recovery.step-due`): check, then send on one channel (or not). */
export class SendRecoveryStep extends Command<EffectOutcome> {
  constructor(
    readonly request: EffectRequest,
    readonly step: number,
  ) {
    super();
  }
}

/** `recovery.reconciliation-requested`: ask the channel whether the unknown send went out (R2). */
export class ReconcileUnknownOutcome extends Command<EffectOutcome> {
  constructor(
    readonly request: EffectRequest,
    readonly step: number,
    readonly channel: Channel,
  ) {
    super();
  }
}

/** `recovery.ticket-requested`: a high-value cart goes to the help desk. */
export class OpenSupportTicket extends Command<EffectOutcome> {
  constructor(
    readonly request: EffectRequest,
    readonly idempotencyKey: string,
  ) {
    super();
  }
}

/** Segmentation or end of a recovery: push its context to the marketing profile (Klaviyo). */
export class SyncProfile extends Command<EffectOutcome> {
  constructor(readonly request: EffectRequest) {
    super();
  }
}

/**
 * `recovery.started` with a marketing platform configured (Klaviyo): read what it knows about the
 * shopper, in one short attempt, and record it (`recovery.enriched`) or why not
 * (`recovery.enrichment-unavailable`). Never repeated by a replay: the recovery reads the record.
 */
export class EnrichRecovery extends Command<EffectOutcome> {
  constructor(readonly request: EffectRequest) {
    super();
  }
}

/** `recovery.back-in-stock-due`: a watched sold-out line was reported back: check, then one message (or not). */
export class SendBackInStock extends Command<EffectOutcome> {
  constructor(
    readonly request: EffectRequest,
    readonly lineId: string,
  ) {
    super();
  }
}

/**
 * `recovery.activity-recorded` whose products the category cache does not know (or knows for longer
 * than its TTL): ask the store for their categories once and record them
 * (`recovery.categories-recorded`) or why not (`recovery.categories-unavailable`).
 */
export class CategorizeCartProducts extends Command<EffectOutcome> {
  constructor(readonly request: EffectRequest) {
    super();
  }
}
/**
 * Stock, current prices and alternatives of the cart's lines, asked by {@link SendRecoveryStep}
 * before its pre-send checks (dispatched on the same bus, inside the same claimed request).
 */
export class CheckInventory extends Command<InventoryOutcome> {
  constructor(
    readonly shop: RecoveryShop,
    readonly items: readonly RecoveryItem[],
    readonly context: {
      readonly recoveryId: string;
      readonly step: number;
      /** Consecutive `store-unavailable` deferrals of the step before this check (the back-off grows with them). */
      readonly deferrals: number;
    },
    /** Which suggestions may replace a sold-out line. */
    readonly rules?: AlternativeRules,
    /**
     * Sold-out lines already answered for this very request (`recovery.alternatives-checked` on the
     * log): read back, never asked of the store again.
     */
    readonly recorded: readonly SoldOutLine[] = [],
  ) {
    super();
  }
}

/**
 * - `checked`: what the store says per line (lines it does not mention are kept as they are), a
 *   sold-out line carrying its alternative when one fits; `soldOut` what was asked about each
 *   sold-out line and decided (to be recorded as `recovery.alternatives-checked`);
 * - `skipped{reason}`: the store refuses for good (token revoked, shop closed): no lines, items kept;
 * - `deferred{until}`: the store could not answer (unreachable, 5xx, rate limited): the step is
 *   deferred as `store-unavailable` until then, with `detail` in words.
 */
export type InventoryOutcome =
  | { readonly kind: 'checked'; readonly lines: readonly StockLine[]; readonly soldOut: readonly SoldOutLine[] }
  | { readonly kind: 'skipped'; readonly reason: string; readonly lines: readonly [] }
  | {
      readonly kind: 'deferred';
      readonly until: Date;
      readonly reason: 'store-unavailable';
      readonly detail: string;
    };

export function effectCommandOf(request: EffectRequest): Command<EffectOutcome> {
  switch (request.kind) {
    case 'step':
      return new SendRecoveryStep(request, Number(request.payload.step));
    case 'reconcile':
      return new ReconcileUnknownOutcome(request, Number(request.payload.step), request.payload.channel as Channel);
    case 'ticket':
      return new OpenSupportTicket(request, String(request.payload.idempotencyKey ?? `${request.streamId}:ticket`));
    case 'profile':
      return new SyncProfile(request);
    case 'enrich':
      return new EnrichRecovery(request);
    case 'back-in-stock':
      return new SendBackInStock(request, String(request.payload.lineId));
    case 'categorize':
      return new CategorizeCartProducts(request);
  }
}

/**
 * What every effect handler shares: the shop's process manager, feeding an input back into the
 * recovery stream, and the customer's contact (opened just before a call, never kept).
 */
import { Inject, Injectable } from '@nestjs/common';
import type {
  CartState,
  Channel,
  ContactDetails,
  CustomerState,
  DeferredEffect,
  RecoveryDecider,
  RecoveryInput,
  StepOutcomeResult,
} from '@reclaim/domain';
import { contactOf, readCart, readCustomer } from '../facts';
import { loadRecovery, runRecovery, type LoadedRecovery } from '../recovery-stream';
import { EFFECT_DEPS, type EffectRunnerDeps } from './effect-deps';
import type { EffectRequest } from './effect-queue';

export interface CustomerFacts {
  readonly cart: CartState;
  readonly customer: CustomerState | undefined;
}

@Injectable()
export class EffectContext {
  constructor(@Inject(EFFECT_DEPS) readonly deps: EffectRunnerDeps) {}

  now(): Date {
    return this.deps.clock.now();
  }

  pmFor(shopId: string): Promise<RecoveryDecider> {
    return this.deps.deciders ? this.deps.deciders.forShop(shopId) : Promise.resolve(this.deps.pm);
  }

  /**
   * A ticket or profile push held up by a retryable provider error: on the recovery (customer
   * history) at the request's first deferral, once per request (found by its causation id), so a
   * provider down for an hour does not fill the stream. The dashboard lists it from the queue meanwhile.
   */
  async recordDeferral(request: EffectRequest, effect: DeferredEffect, detail: string, shopId: string): Promise<void> {
    const causation = `${request.requestId}:deferred`;
    const { recorded } = await loadRecovery(this.deps.store, request.streamId);
    if (recorded.some((r) => r.metadata?.causationId === causation)) return;
    await this.feed(
      request,
      { type: 'EffectDeferred', effect, detail, at: this.now().toISOString() },
      'deferred',
      shopId,
    );
  }

  /** Feeds `input` into the request's recovery stream; `suffix` makes the event ids deterministic. */
  async feed(request: EffectRequest, input: RecoveryInput, suffix: string, shopId = request.shopId): Promise<void> {
    const events = await runRecovery(
      this.deps.store,
      await this.pmFor(shopId),
      request.streamId,
      input,
      `${request.requestId}:${suffix}`,
      shopId,
    );
    // The send is recorded: an open, click or delivery status that came before it is applied now
    // (a failure here leaves it to the engine's sweep; the send itself stays recorded).
    const held = this.deps.heldEngagement;
    if (
      held &&
      events.some(
        (e) =>
          e.type === 'recovery.message-sent' ||
          e.type === 'recovery.back-in-stock-sent' ||
          (e.type === 'recovery.late-outcome' && e.outcome === 'sent'),
      )
    ) {
      await held
        .applyHeld(request.streamId)
        .catch((err: unknown) =>
          this.deps.log?.warn(
            { recoveryId: request.streamId, error: err instanceof Error ? err.name : 'Error' },
            'held engagement not applied yet: the engine sweep retries',
          ),
        );
    }
  }

  /** Feeds a step's outcome back (`StepOutcome`, once per request). */
  feedStepOutcome(
    request: EffectRequest,
    step: number,
    channel: Channel | undefined,
    outcome: StepOutcomeResult,
  ): Promise<void> {
    return this.feed(
      request,
      {
        type: 'StepOutcome',
        step,
        ...(channel !== undefined ? { channel } : {}),
        at: this.now().toISOString(),
        outcome,
      },
      'outcome',
    );
  }

  /** The cart and (when known) the customer, folded from their streams. */
  async customerFacts(shopId: string, cartId: string, customerKey: string | undefined): Promise<CustomerFacts> {
    const [cart, customer] = await Promise.all([
      readCart(this.deps.store, shopId, cartId),
      customerKey !== undefined ? readCustomer(this.deps.store, shopId, customerKey) : Promise.resolve(undefined),
    ]);
    return { cart, customer };
  }

  /** The contact to write to, opened from the vault; `null` when shredded or absent. */
  async openContact(shopId: string, facts: CustomerFacts): Promise<ContactDetails | null> {
    const sealed = contactOf(facts.cart, facts.customer);
    return sealed ? this.deps.vault.open<ContactDetails>(shopId, sealed) : null;
  }
}

/** The latest recorded event of `type` for `step` in a loaded recovery. */
export function latestOfStep(loaded: LoadedRecovery, type: string, step: number) {
  for (let i = loaded.recorded.length - 1; i >= 0; i--) {
    const r = loaded.recorded[i];
    if (r.type === type && (r.data as { step?: number }).step === step) return r;
  }
  return undefined;
}

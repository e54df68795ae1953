/**
 * Runs the side effects the recovery process manager asks for, each as an idempotent step with a
 * stable key and an explicit outcome fed back into the recovery stream.
 *
 * Crash-safe send protocol (R2): the attempt is recorded durably (`engine.effects`, status
 * `started`, with the id of the `step-due` that asked for it) before anything leaves; the outcome is
 * recorded (`done`) before it is fed back. Finding a `started` row of the same request again means
 * a crash between the provider call and the record: the outcome is reported `unknown`, the decider
 * asks for reconciliation and `ChannelPort.lookup` settles it. Nothing is ever resent blindly, and
 * a resend after "not sent" uses the same idempotency key, so the provider dedupes it anyway.
 */
import type { Pool } from 'pg';
import {
  checkBeforeSend,
  effectIdempotencyKey,
  isCartConverted,
  outcomeFromCheck,
  sendFactsFromState,
  sentOutcome,
  type CartState,
  type Channel,
  type ContactDetails,
  type CustomerState,
  type RecoveryDecider,
  type RecoveryInput,
  type RecoveryState,
  type SealedValue,
  type SendDecision,
  type StockLine,
  type StepOutcomeResult,
} from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Clock } from '../clock';
import { consentOf, contactOf, customerHistoryFacts, readCart, readCustomer } from '../facts';
import { RenderInputError } from '../../messages/renderer';
import { isPublicHttpUrl } from '../../messages/url-safety';
import {
  describeProviderError,
  DiscountUnavailableError,
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RecipientOptedOutError,
  RetryableProviderError,
  type ChannelPort,
  type CommercePort,
  type EngineLog,
  type MessageLinkFactory,
  type MessageRenderer,
  type RecoveryProfileSync,
  type RecoveryShop,
  type ShopLookup,
  type TicketPort,
} from '../ports';
import { parseRecoveryId } from '../recovery-feed';
import { loadRecovery, runRecovery, type LoadedRecovery } from '../recovery-stream';
import type { ShopDeciders, ShopProfiles } from '../settings/shop-settings';
import type { SmsOptOutPort } from '../sms/sms-opt-outs';
import { EffectQueue, type EffectRequest } from './effect-queue';

/** Opens sealed contacts: `PersonalDataVault` satisfies it (`null` = crypto-shredded). */
export interface ContactOpener {
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

export interface EffectRunnerDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly pm: RecoveryDecider;
  readonly clock: Clock;
  readonly vault: ContactOpener;
  readonly shops: ShopLookup;
  /**
   * One provider per channel. A channel without a provider is skipped by the pre-send checks with
   * `channel-unavailable` (the step's next channel is used), never attempted.
   */
  readonly channels: Partial<Record<Channel, ChannelPort>>;
  readonly commerce: CommercePort;
  readonly renderer: MessageRenderer;
  /** Signed unsubscribe, open-pixel and click links of each message (`MessageLinks`). */
  readonly links: MessageLinkFactory;
  /** Without it, ticket requests are recorded as `recovery.ticket-skipped{no-ticket-provider}`. */
  readonly tickets?: TicketPort;
  /**
   * Marketing profile sync (Klaviyo): `profile` requests push the recovery's segment and context.
   * Without it they are dropped. Its failures are retried with back-off on their own requests and
   * never hold up a send.
   */
  readonly profileSync?: RecoveryProfileSync;
  /**
   * SMS opt-outs (R26): who each texted number belongs to (so a STOP reply finds the customer), and
   * the opt-out a send reports ({@link RecipientOptedOutError}, Twilio 21610).
   */
  readonly smsOptOuts?: SmsOptOutPort;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  /** The merchant's name and postal address printed in emails (R25). */
  readonly profiles?: ShopProfiles;
  readonly log?: EngineLog;
  /** Requests claimed per round trip. Default 50. */
  readonly batchSize?: number;
  /** Lease of a claimed request; must exceed the longest provider call. Default 5 min. */
  readonly leaseMs?: number;
  /** A `started` effect older than this is considered interrupted at start-up. Default 10 min. */
  readonly staleStartedAfterMs?: number;
  /** Attempts of a request whose processing itself fails (store down, ticket 5xx) before it is dropped. Default 20. */
  readonly maxRequestAttempts?: number;
}

interface EffectRow {
  idempotency_key: string;
  request_id: string;
  status: 'started' | 'done';
  discount_code: string | null;
  outcome: StepOutcomeResult | null;
}

export interface RunResult {
  readonly processed: number;
  readonly failed: number;
}

/** Thrown to retry a request later, honouring the provider's Retry-After when there is one. */
class RetryRequest extends Error {
  constructor(
    readonly afterMs: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class EffectRunner {
  private readonly queue: EffectQueue;
  private running: Promise<RunResult> | undefined;

  constructor(private readonly deps: EffectRunnerDeps) {
    this.queue = new EffectQueue(deps.pool);
  }

  /** Drains the ready requests once (coalesced when called while running). Schedule it like the timer tick. */
  runOnce(): Promise<RunResult> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * Start-up: effects left `started` by a crashed process (older than `staleStartedAfterMs`) have
   * their requests released at once; processing them reports `unknown` and reconciles (R2).
   */
  async recoverInterrupted(): Promise<number> {
    await this.deps.clock.refresh?.();
    const cutoff = new Date(this.deps.clock.now().getTime() - (this.deps.staleStartedAfterMs ?? 10 * 60_000));
    const { rows } = await this.deps.pool.query<{ request_id: string }>(
      `SELECT request_id FROM engine.effects WHERE status = 'started' AND started_at <= $1`,
      [cutoff],
    );
    await this.queue.releaseNow(rows.map((r) => r.request_id));
    return rows.length;
  }

  private async drain(): Promise<RunResult> {
    let processed = 0;
    let failed = 0;
    await this.deps.clock.refresh?.();
    for (;;) {
      const now = this.deps.clock.now();
      const batch = await this.queue.claim(now, this.deps.batchSize ?? 50, this.deps.leaseMs ?? 5 * 60_000);
      if (batch.length === 0) break;
      const results = await Promise.all(batch.map((r) => this.process(r)));
      processed += results.filter(Boolean).length;
      failed += results.filter((ok) => !ok).length;
      if (results.every((ok) => !ok)) break;
    }
    return { processed, failed };
  }

  /** Processes one claimed request; false when it failed and was put back for later. */
  async process(request: EffectRequest): Promise<boolean> {
    try {
      switch (request.kind) {
        case 'step':
          await this.step(request);
          break;
        case 'reconcile':
          await this.reconcile(request);
          break;
        case 'ticket':
          await this.ticket(request);
          break;
        case 'profile':
          await this.profile(request);
          break;
      }
      await this.queue.done(request.requestId, this.deps.clock.now());
      return true;
    } catch (err) {
      const max = this.deps.maxRequestAttempts ?? 20;
      if (request.attempts + 1 >= max) {
        this.deps.log?.warn(
          { requestId: request.requestId, kind: request.kind, error: describeProviderError(err) },
          'effect request dropped after repeated failures',
        );
        await this.queue.done(request.requestId, this.deps.clock.now()).catch(() => undefined);
        return false;
      }
      const delay =
        err instanceof RetryRequest ? err.afterMs : Math.min(5 * 60_000, 1_000 * 2 ** Math.min(request.attempts, 12));
      this.deps.log?.warn(
        {
          requestId: request.requestId,
          kind: request.kind,
          error: err instanceof RetryRequest ? err.reason : describeProviderError(err),
        },
        'effect request failed: retried later',
      );
      await this.queue
        .retryLater(request.requestId, new Date(this.deps.clock.now().getTime() + delay))
        .catch(() => undefined);
      return false;
    }
  }

  private pmFor(shopId: string): Promise<RecoveryDecider> {
    return this.deps.deciders ? this.deps.deciders.forShop(shopId) : Promise.resolve(this.deps.pm);
  }

  // ------------------------------------------------------------------ steps

  private async step(request: EffectRequest): Promise<void> {
    const step = Number(request.payload.step);
    const recoveryId = request.streamId;
    const loaded = await loadRecovery(this.deps.store, recoveryId);
    const due = latest(loaded, 'recovery.step-due', step);
    if (due === undefined || due.id !== request.requestId || loaded.state.steps[step]?.status !== 'due') return;
    const dueEvent = loaded.events[loaded.recorded.indexOf(due)];
    if (dueEvent.type !== 'recovery.step-due') return;

    // R2: an attempt of this very request was started before (we crashed, or its outcome was not fed back).
    const previous = await this.effectsOf(recoveryId, step);
    for (const row of previous) {
      if (row.request_id !== request.requestId) continue;
      const channel = channelOfKey(row.idempotency_key);
      if (row.status === 'started') {
        await this.finishEffect(row.idempotency_key, request.requestId, { kind: 'unknown' });
        return this.feedOutcome(request, step, channel, { kind: 'unknown' });
      }
      if (row.outcome !== null) return this.feedOutcome(request, step, channel, row.outcome);
    }

    const { state } = loaded;
    const ids = parseRecoveryId(recoveryId);
    if (ids === undefined) return;
    if (state.status === 'ended') {
      if (state.endReason === 'purchased') {
        return this.feedOutcome(request, step, undefined, { kind: 'stopped', reason: 'purchased' });
      }
      if (state.endReason === 'opted-out') {
        return this.feedOutcome(request, step, undefined, { kind: 'skipped', reason: 'channel-opted-out' });
      }
      return;
    }
    const shop = await this.deps.shops.get(ids.shopId);
    if (!shop) {
      this.deps.log?.warn({ recoveryId, step }, 'step due for a shop that no longer exists: dropped');
      return;
    }
    const customerKey = state.cart?.customerKey;
    const [cart, customer] = await Promise.all([
      readCart(this.deps.store, ids.shopId, ids.cartId),
      customerKey !== undefined ? readCustomer(this.deps.store, ids.shopId, customerKey) : Promise.resolve(undefined),
    ]);
    const facts = sendFactsFromState(state, dueEvent);
    let stock: StockLine[];
    try {
      stock = await this.deps.commerce.stock(shop, facts.items);
    } catch (err) {
      if (err instanceof RetryableProviderError) {
        throw new RetryRequest(err.retryAfterMs ?? 60_000, `stock lookup: ${describeProviderError(err)}`);
      }
      if (!(err instanceof PermanentProviderError)) throw err;
      // The store refuses for good (token revoked, shop closed): the items are kept as they are.
      this.deps.log?.warn({ recoveryId, step, error: describeProviderError(err) }, 'stock lookup refused: items kept');
      stock = [];
    }
    const history = await customerHistoryFacts(this.deps.pool, ids.shopId, customerKey, recoveryId);
    const now = this.deps.clock.now();
    const pm = await this.pmFor(ids.shopId);
    const unavailableChannels = (['email', 'sms'] as const).filter((c) => this.deps.channels[c] === undefined);
    const result = checkBeforeSend(
      {
        ...facts,
        ...history,
        purchased: facts.purchased || isCartConverted(cart),
        consent: consentOf(customer, cart),
        now: now.toISOString(),
        stock,
        ...(unavailableChannels.length > 0 ? { unavailableChannels } : {}),
      },
      pm.config,
    );
    const noSend = outcomeFromCheck(result);
    if (noSend !== undefined || result.decision !== 'send') {
      const channel = result.decision === 'defer' ? result.channel : undefined;
      return this.feedOutcome(request, step, channel, noSend ?? { kind: 'skipped', reason: 'no-consent' });
    }
    const outcome = await this.send(request, shop, ids.cartId, state, cart, customer, result);
    return this.feedOutcome(request, step, result.channel, outcome);
  }

  private async send(
    request: EffectRequest,
    shop: RecoveryShop,
    cartId: string,
    state: RecoveryState,
    cart: CartState,
    customer: CustomerState | undefined,
    decision: SendDecision,
  ): Promise<StepOutcomeResult> {
    const key = decision.idempotencyKey;
    const step = Number(request.payload.step);
    const channel = decision.channel;
    const port = this.deps.channels[channel];
    // Open the contact first: nothing to record when there is nobody to write to.
    const sealed = contactOf(cart, customer);
    const contact = sealed ? await this.deps.vault.open<ContactDetails>(shop.id, sealed) : null;
    const to = channel === 'email' ? contact?.email : contact?.phone;
    if (!to) {
      // Shredded (customers/redact) or no address for this channel any more.
      return { kind: 'skipped', reason: channel === 'email' ? 'no-email-address' : 'invalid-phone' };
    }
    if (!port) return { kind: 'failed', retryable: false, error: `no-${channel}-provider` };

    const customerKey = state.cart?.customerKey;
    if (customerKey === undefined) {
      // Without a customer key no unsubscribe link can be signed (R25): nothing is sent.
      return { kind: 'failed', retryable: false, error: 'no-customer-key' };
    }

    const platformCustomerId =
      cart.platformCustomerId ?? (customer?.status === 'known' ? customer.platformCustomerId : undefined);
    await this.startEffect(key, state.recoveryId, step, channel, request.requestId);
    let discountCode: string | undefined;
    let sent: SendDecision = decision;
    try {
      if (decision.discount !== undefined) {
        try {
          discountCode = (
            await this.deps.commerce.createDiscountCode({
              idempotencyKey: decision.discount.idempotencyKey,
              shop,
              percent: decision.discount.percent,
              expiresAt: decision.discount.expiresAt,
              customerKey,
              cartId,
              ...(contact?.email ? { customerEmail: contact.email } : {}),
              ...(platformCustomerId !== undefined ? { platformCustomerId } : {}),
            })
          ).code;
          await this.deps.pool.query('UPDATE engine.effects SET discount_code = $2 WHERE idempotency_key = $1', [
            key,
            discountCode,
          ]);
        } catch (err) {
          if (!(err instanceof DiscountUnavailableError)) throw err;
          // No invented code: the message goes out without one, and the outcome says why.
          const { discount: _withheld, ...rest } = decision;
          sent = { ...rest, discountWithheld: 'discount-unavailable' };
        }
      }
      const links = this.deps.links.forMessage({
        shopId: shop.id,
        recoveryId: state.recoveryId,
        step,
        channel,
        customerKey,
      });
      const profile = (await this.deps.profiles?.profile(shop.id)) ?? { postalAddress: '' };
      const lines = new Map((cart.snapshot?.lineItems ?? []).map((l) => [l.lineId, l]));
      const rendered = await this.deps.renderer.render({
        templateId: sent.template.id,
        kind: sent.template.kind,
        channel,
        step,
        ...(cart.snapshot?.locale !== undefined ? { locale: cart.snapshot.locale } : {}),
        shop: {
          id: shop.id,
          ...(profile.name !== undefined ? { name: profile.name } : {}),
          domain: shop.shopDomain,
          postalAddress: profile.postalAddress,
          currency: shop.currency,
          timeZone: shop.timezone,
        },
        ...(contact?.firstName ? { customerName: contact.firstName } : {}),
        items: sent.items.map((i) => {
          const line = lines.get(i.lineId);
          return {
            title: line?.title ?? i.title ?? i.productId,
            ...(line?.variantTitle !== undefined ? { variantTitle: line.variantTitle } : {}),
            ...(line?.imageUrl !== undefined ? { imageUrl: line.imageUrl } : {}),
            quantity: i.quantity,
            unitPrice: i.unitPrice,
            priceChanged: i.priceChanged,
          };
        }),
        cartValue: sent.cartValue,
        currency: sent.currency,
        ...(sent.discount !== undefined && discountCode !== undefined
          ? { discount: { code: discountCode, percent: sent.discount.percent, expiresAt: sent.discount.expiresAt } }
          : {}),
        checkoutUrl: cart.snapshot?.checkoutUrl ?? `https://${shop.shopDomain}/cart`,
        unsubscribeUrl: links.unsubscribeUrl,
        ...(links.trackingPixelUrl !== undefined ? { trackingPixelUrl: links.trackingPixelUrl } : {}),
        clickUrl: links.clickUrl,
      });
      // R28: last look at the purchase right before anything leaves.
      if (await this.purchasedMeanwhile(shop.id, cartId, state.recoveryId)) {
        const stopped: StepOutcomeResult = { kind: 'stopped', reason: 'purchased' };
        await this.finishEffect(key, request.requestId, stopped);
        return stopped;
      }
      const context = { shopId: shop.id, recoveryId: state.recoveryId, step, customerKey };
      const sendInput: Parameters<ChannelPort['send']>[0] =
        channel === 'email'
          ? {
              idempotencyKey: key,
              channel,
              to,
              subject: rendered.subject,
              html: rendered.html,
              text: rendered.text,
              headers: rendered.headers,
              context,
            }
          : { idempotencyKey: key, channel, to, body: rendered.text, context };
      if (channel === 'sms')
        await this.deps.smsOptOuts?.rememberRecipient(shop.id, to, customerKey, this.deps.clock.now());
      const failure = await this.callProvider(port, sendInput);
      if ('optedOut' in failure) {
        // R26: the provider says the number opted out (replied STOP): record it, skip, never retry.
        await this.recordProviderOptOut(shop.id, customerKey, key, failure.code);
        const skipped: StepOutcomeResult = { kind: 'skipped', reason: 'channel-opted-out' };
        await this.finishEffect(key, request.requestId, skipped);
        return skipped;
      }
      const outcome: StepOutcomeResult =
        'messageId' in failure ? sentOutcome(sent, failure.messageId, discountCode) : failure.outcome;
      await this.finishEffect(key, request.requestId, outcome);
      return outcome;
    } catch (err) {
      // Before the provider call (discount, rendering): nothing went out, a retry is safe.
      const outcome: StepOutcomeResult =
        err instanceof RetryableProviderError
          ? {
              kind: 'failed',
              retryable: true,
              error: describeProviderError(err),
              ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
            }
          : {
              kind: 'failed',
              retryable: !(err instanceof PermanentProviderError || err instanceof RenderInputError),
              error: describeProviderError(err),
            };
      await this.finishEffect(key, request.requestId, outcome);
      return outcome;
    }
  }

  /** The provider call, classified; any untyped error after the request may have gone out is `unknown`. */
  private async callProvider(
    port: ChannelPort,
    message: Parameters<ChannelPort['send']>[0],
  ): Promise<{ messageId: string } | { outcome: StepOutcomeResult } | { optedOut: true; code: string }> {
    try {
      return { messageId: (await port.send(message)).messageId };
    } catch (err) {
      if (err instanceof RecipientOptedOutError) return { optedOut: true, code: err.code ?? 'opted-out' };
      if (err instanceof RetryableProviderError) {
        return {
          outcome: {
            kind: 'failed',
            retryable: true,
            error: describeProviderError(err),
            ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
          },
        };
      }
      if (err instanceof PermanentProviderError) {
        return { outcome: { kind: 'failed', retryable: false, error: describeProviderError(err) } };
      }
      if (!(err instanceof ProviderOutcomeUnknownError)) {
        this.deps.log?.warn(
          { error: describeProviderError(err) },
          'untyped provider error: outcome treated as unknown',
        );
      }
      return { outcome: { kind: 'unknown' } };
    }
  }

  private async recordProviderOptOut(shopId: string, customerKey: string, key: string, code: string): Promise<void> {
    if (!this.deps.smsOptOuts) return;
    try {
      await this.deps.smsOptOuts.optOutCustomer({
        shopId,
        customerKey,
        at: this.deps.clock.now(),
        source: `provider:${code}`,
        causationId: `sms-opt-out:${key}`,
      });
    } catch (err) {
      // The step is skipped either way; the next send to the number reports the opt-out again.
      this.deps.log?.warn({ key, error: describeProviderError(err) }, 'provider-reported SMS opt-out not recorded');
    }
  }

  private async purchasedMeanwhile(shopId: string, cartId: string, recoveryId: string): Promise<boolean> {
    const [cart, recovery] = await Promise.all([
      readCart(this.deps.store, shopId, cartId),
      loadRecovery(this.deps.store, recoveryId),
    ]);
    return isCartConverted(cart) || (recovery.state.status === 'ended' && recovery.state.endReason === 'purchased');
  }

  // ------------------------------------------------------------------ reconciliation

  private async reconcile(request: EffectRequest): Promise<void> {
    const step = Number(request.payload.step);
    const channel = request.payload.channel as Channel;
    const loaded = await loadRecovery(this.deps.store, request.streamId);
    const asked = latest(loaded, 'recovery.reconciliation-requested', step);
    const current = loaded.state.steps[step];
    if (asked === undefined || asked.id !== request.requestId || current?.status !== 'reconciling') return;
    const key = effectIdempotencyKey(request.streamId, step, channel);
    const port = this.deps.channels[channel];
    let found: Awaited<ReturnType<ChannelPort['lookup']>> = { status: 'unknown' };
    if (port) {
      try {
        found = await port.lookup(key);
      } catch (err) {
        this.deps.log?.warn({ key, error: describeProviderError(err) }, 'reconciliation lookup failed: still unknown');
      }
    }
    const { rows } = await this.deps.pool.query<{ discount_code: string | null }>(
      'SELECT discount_code FROM engine.effects WHERE idempotency_key = $1',
      [key],
    );
    const discountCode = rows[0]?.discount_code ?? undefined;
    const now = this.deps.clock.now().toISOString();
    const input: RecoveryInput = {
      type: 'ReconciliationResult',
      step,
      channel,
      at: now,
      result:
        found.status === 'sent'
          ? { kind: 'sent', messageId: found.messageId, ...(discountCode !== undefined ? { discountCode } : {}) }
          : { kind: found.status },
    };
    await this.deps.pool.query(
      `UPDATE engine.effects SET outcome = jsonb_set(COALESCE(outcome, '{}'::jsonb), '{reconciled}', to_jsonb($2::text))
       WHERE idempotency_key = $1`,
      [key, found.status],
    );
    await runRecovery(
      this.deps.store,
      await this.pmFor(request.shopId),
      request.streamId,
      input,
      `${request.requestId}:result`,
      request.shopId,
    );
  }

  // ------------------------------------------------------------------ marketing profile

  private async profile(request: EffectRequest): Promise<void> {
    if (!this.deps.profileSync) return;
    const ids = parseRecoveryId(request.streamId);
    if (ids === undefined) return;
    // The recovery as it is now: a late or repeated push carries the latest context (idempotent).
    const loaded = await loadRecovery(this.deps.store, request.streamId);
    const state = loaded.state;
    const snapshot = state.cart;
    const customerKey = snapshot?.customerKey;
    const [cart, customer] = await Promise.all([
      readCart(this.deps.store, ids.shopId, ids.cartId),
      customerKey !== undefined ? readCustomer(this.deps.store, ids.shopId, customerKey) : Promise.resolve(undefined),
    ]);
    const sealed = contactOf(cart, customer);
    // Opened just before the call, never kept.
    const contact = sealed ? await this.deps.vault.open<ContactDetails>(ids.shopId, sealed) : null;
    if (!contact?.email) return;
    const lastStep = state.steps.reduce<number | undefined>((n, s, i) => (s.status !== 'pending' ? i : n), undefined);
    try {
      await this.deps.profileSync.push(contact.email, {
        segments: state.segments,
        recoveryId: request.streamId,
        recoveryStatus: state.status === 'ended' && state.endReason ? `ended:${state.endReason}` : state.status,
        ...(lastStep !== undefined ? { step: lastStep } : {}),
        ...(snapshot !== undefined ? { cartValue: snapshot.value, currency: snapshot.currency } : {}),
        at: this.deps.clock.now(),
      });
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        this.deps.log?.warn(
          { recoveryId: request.streamId, error: describeProviderError(err) },
          'profile push refused',
        );
        return;
      }
      if (err instanceof RetryableProviderError) {
        throw new RetryRequest(err.retryAfterMs ?? 60_000, `profile: ${describeProviderError(err)}`);
      }
      throw err; // unknown outcome: the push is an upsert, retrying is safe
    }
  }

  // ------------------------------------------------------------------ tickets

  private async ticket(request: EffectRequest): Promise<void> {
    const loaded = await loadRecovery(this.deps.store, request.streamId);
    if (loaded.events.some((e) => e.type === 'recovery.ticket-opened')) return;
    const ids = parseRecoveryId(request.streamId);
    const snapshot = loaded.state.cart;
    if (ids === undefined || snapshot === undefined) return;
    if (!this.deps.tickets) {
      return this.skipTicket(request, ids.shopId, 'no-ticket-provider');
    }
    const customerKey = snapshot.customerKey;
    const [cart, customer] = await Promise.all([
      readCart(this.deps.store, ids.shopId, ids.cartId),
      customerKey !== undefined ? readCustomer(this.deps.store, ids.shopId, customerKey) : Promise.resolve(undefined),
    ]);
    const sealed = contactOf(cart, customer);
    const contact = sealed ? await this.deps.vault.open<ContactDetails>(ids.shopId, sealed) : null;
    const lines = snapshot.items.map(
      (i) => `- ${i.quantity} × ${i.title ?? i.productId} @ ${i.unitPrice} ${snapshot.currency}`,
    );
    const body = [
      `A high-value cart was abandoned: ${snapshot.value} ${snapshot.currency}.`,
      `Cart: ${ids.cartId}`,
      // R22: a link from the webhook data reaches the agent only when it is a public http(s) address.
      ...(cart.snapshot?.checkoutUrl && isPublicHttpUrl(cart.snapshot.checkoutUrl)
        ? [`Checkout: ${cart.snapshot.checkoutUrl}`]
        : []),
      ...(loaded.state.segments.length > 0 ? [`Segments: ${loaded.state.segments.join(', ')}`] : []),
      '',
      'Items:',
      ...lines,
    ].join('\n');
    let ticketId: string;
    try {
      ticketId = (
        await this.deps.tickets.open({
          idempotencyKey: String(request.payload.idempotencyKey ?? `${request.streamId}:ticket`),
          shopId: ids.shopId,
          cartId: ids.cartId,
          subject: `Abandoned cart worth ${snapshot.value} ${snapshot.currency}`,
          body,
          ...(contact?.email ? { customerEmail: contact.email } : {}),
        })
      ).ticketId;
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        this.deps.log?.warn({ recoveryId: request.streamId, error: describeProviderError(err) }, 'ticket refused');
        return this.skipTicket(request, ids.shopId, 'ticket-refused');
      }
      if (err instanceof RetryableProviderError) {
        throw new RetryRequest(err.retryAfterMs ?? 60_000, `ticket: ${describeProviderError(err)}`);
      }
      throw err; // unknown: the idempotency key makes the retry safe
    }
    await runRecovery(
      this.deps.store,
      await this.pmFor(ids.shopId),
      request.streamId,
      { type: 'TicketOpened', ticketId, at: this.deps.clock.now().toISOString() },
      `${request.requestId}:opened`,
      ids.shopId,
    );
  }

  private async skipTicket(
    request: EffectRequest,
    shopId: string,
    reason: 'no-ticket-provider' | 'ticket-refused',
  ): Promise<void> {
    await runRecovery(
      this.deps.store,
      await this.pmFor(shopId),
      request.streamId,
      { type: 'TicketSkipped', reason, at: this.deps.clock.now().toISOString() },
      `${request.requestId}:skipped`,
      shopId,
    );
  }

  // ------------------------------------------------------------------ helpers

  private async feedOutcome(
    request: EffectRequest,
    step: number,
    channel: Channel | undefined,
    outcome: StepOutcomeResult,
  ): Promise<void> {
    await runRecovery(
      this.deps.store,
      await this.pmFor(request.shopId),
      request.streamId,
      {
        type: 'StepOutcome',
        step,
        ...(channel !== undefined ? { channel } : {}),
        at: this.deps.clock.now().toISOString(),
        outcome,
      },
      `${request.requestId}:outcome`,
      request.shopId,
    );
  }

  private async effectsOf(recoveryId: string, step: number): Promise<EffectRow[]> {
    const { rows } = await this.deps.pool.query<EffectRow>(
      `SELECT idempotency_key, request_id, status, discount_code, outcome FROM engine.effects
       WHERE recovery_id = $1 AND step = $2`,
      [recoveryId, step],
    );
    return rows;
  }

  private async startEffect(
    key: string,
    recoveryId: string,
    step: number,
    channel: Channel,
    requestId: string,
  ): Promise<void> {
    await this.deps.pool.query(
      `INSERT INTO engine.effects (idempotency_key, recovery_id, step, channel, request_id, status, started_at)
       VALUES ($1, $2, $3, $4, $5, 'started', $6)
       ON CONFLICT (idempotency_key) DO UPDATE SET request_id = EXCLUDED.request_id, status = 'started',
         started_at = EXCLUDED.started_at, finished_at = NULL, outcome = NULL`,
      [key, recoveryId, step, channel, requestId, this.deps.clock.now()],
    );
  }

  private async finishEffect(key: string, requestId: string, outcome: StepOutcomeResult): Promise<void> {
    await this.deps.pool.query(
      `UPDATE engine.effects SET status = 'done', finished_at = $3, outcome = $4
       WHERE idempotency_key = $1 AND request_id = $2`,
      [key, requestId, this.deps.clock.now(), JSON.stringify(outcome)],
    );
  }
}

function latest(loaded: LoadedRecovery, type: string, step: number) {
  for (let i = loaded.recorded.length - 1; i >= 0; i--) {
    const r = loaded.recorded[i];
    if (r.type === type && (r.data as { step?: number }).step === step) return r;
  }
  return undefined;
}

function channelOfKey(key: string): Channel {
  return key.endsWith(':sms') ? 'sms' : 'email';
}

/**
 * The crash-safe send of one message (R2): the attempt is recorded (`engine.effects`, `started`)
 * before anything leaves; then the discount code, the signed links, the rendering, a last look at
 * the purchase (R28) and the provider call; the outcome is recorded (`done`) before it is fed back.
 * Nothing is ever resent blindly: an untyped error once the request may have gone out is `unknown`.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  isCartConverted,
  sentOutcome,
  type Channel,
  type RecoveryState,
  type SendDecision,
  type SoldOutLine,
  type StepOutcomeResult,
} from '@reclaim/domain';
import { RenderInputError } from '../../messages/renderer';
import { templateEventProperties } from '../../messages/template-event';
import {
  type ChannelPort,
  describeProviderError,
  DiscountUnavailableError,
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RecipientOptedOutError,
  type RecoveryShop,
  RetryableProviderError,
} from '@reclaim/ports';
import { consentOf, readCart, readCustomer } from '../facts';
import { loadRecovery } from '../recovery-stream';
import { EffectContext, type CustomerFacts } from './effect-context';
import type { EffectRequest } from './effect-queue';
import { EffectRecords } from './effect-records';
import { renderInputOf } from './message-content';

export interface DeliveryTarget {
  readonly request: EffectRequest;
  readonly step: number;
  readonly shop: RecoveryShop;
  readonly cartId: string;
  readonly state: RecoveryState;
  readonly facts: CustomerFacts;
  /** The step's sold-out lines as the store answered (alternatives offered, or announced as sold out). */
  readonly soldOut?: readonly SoldOutLine[];
}

type ProviderAnswer = { messageId: string } | { outcome: StepOutcomeResult } | { optedOut: true; code: string };

@Injectable()
export class MessageDelivery {
  constructor(
    @Inject(EffectContext) private readonly ctx: EffectContext,
    @Inject(EffectRecords) private readonly records: EffectRecords,
  ) {}

  async deliver(target: DeliveryTarget, decision: SendDecision): Promise<StepOutcomeResult> {
    const { deps } = this.ctx;
    const { request, step, shop, cartId, state, facts } = target;
    const key = decision.idempotencyKey;
    const channel = decision.channel;
    const port = deps.channels[channel];
    // Open the contact first: nothing to record when there is nobody to write to.
    const contact = await this.ctx.openContact(shop.id, facts);
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

    const { cart, customer } = facts;
    const platformCustomerId =
      cart.platformCustomerId ?? (customer?.status === 'known' ? customer.platformCustomerId : undefined);
    await this.records.start(key, state.recoveryId, step, channel, request.requestId, this.ctx.now());
    const finish = async (outcome: StepOutcomeResult): Promise<StepOutcomeResult> => {
      await this.records.finish(key, request.requestId, outcome, this.ctx.now());
      return outcome;
    };
    let discountCode: string | undefined;
    let sent: SendDecision = decision;
    try {
      if (decision.discount !== undefined) {
        try {
          const made = await deps.commerce.createDiscountCode({
            idempotencyKey: decision.discount.idempotencyKey,
            shop,
            percent: decision.discount.percent,
            expiresAt: decision.discount.expiresAt,
            customerKey,
            cartId,
            ...(contact?.email ? { customerEmail: contact.email } : {}),
            ...(platformCustomerId !== undefined ? { platformCustomerId } : {}),
          });
          discountCode = made.code;
          await this.records.setDiscountCode(key, discountCode, made.via);
        } catch (err) {
          if (!(err instanceof DiscountUnavailableError)) throw err;
          // No invented code: the message goes out without one, and the outcome says why.
          const { discount: _withheld, ...rest } = decision;
          sent = { ...rest, discountWithheld: 'discount-unavailable' };
        }
      }
      const links = deps.links.forMessage({
        shopId: shop.id,
        recoveryId: state.recoveryId,
        step,
        channel,
        customerKey,
      });
      const profile = (await deps.profiles?.profile(shop.id)) ?? { postalAddress: '' };
      const renderInput = renderInputOf({
        decision: sent,
        step,
        shop,
        profile,
        sequenceId: state.sequence?.id,
        ...(state.sequence?.steps[step]?.subject !== undefined ? { subject: state.sequence.steps[step].subject } : {}),
        cart,
        contact,
        links,
        discountCode,
        soldOut: target.soldOut ?? [],
      });
      const rendered = await deps.renderer.render(renderInput);
      // Template mode (Klaviyo): the structured properties the merchant's own template renders.
      const templateProperties =
        channel === 'email' && profile.klaviyoMode === 'template'
          ? templateEventProperties(renderInput, { segments: state.segments })
          : undefined;
      // R28 / R27: last look at the purchase and the consent right before anything leaves (the checks
      // above ran on facts read before the discount and the rendering, which can take seconds).
      const meanwhile = await this.stoppedMeanwhile(shop.id, cartId, state.recoveryId, customerKey, channel);
      if (meanwhile !== undefined) return finish(meanwhile);
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
              ...(templateProperties !== undefined ? { templateProperties } : {}),
              context,
            }
          : { idempotencyKey: key, channel, to, body: rendered.text, context };
      if (channel === 'sms') await deps.smsOptOuts?.rememberRecipient(shop.id, to, customerKey, this.ctx.now());
      const answer = await this.callProvider(port, sendInput);
      if ('optedOut' in answer) {
        // R26: the provider says the number opted out (replied STOP): record it, skip, never retry.
        await this.recordProviderOptOut(shop.id, customerKey, key, answer.code);
        return finish({ kind: 'skipped', reason: 'channel-opted-out' });
      }
      return finish('messageId' in answer ? sentOutcome(sent, answer.messageId, discountCode) : answer.outcome);
    } catch (err) {
      // Before the provider call (discount, rendering): nothing went out, a retry is safe.
      return finish(
        err instanceof RetryableProviderError
          ? failedRetryable(err)
          : {
              kind: 'failed',
              retryable: !(err instanceof PermanentProviderError || err instanceof RenderInputError),
              error: describeProviderError(err),
            },
      );
    }
  }

  /** The provider call, classified; any untyped error after the request may have gone out is `unknown`. */
  private async callProvider(port: ChannelPort, message: Parameters<ChannelPort['send']>[0]): Promise<ProviderAnswer> {
    try {
      return { messageId: (await port.send(message)).messageId };
    } catch (err) {
      if (err instanceof RecipientOptedOutError) return { optedOut: true, code: err.code ?? 'opted-out' };
      if (err instanceof RetryableProviderError) return { outcome: failedRetryable(err) };
      if (err instanceof PermanentProviderError) {
        return { outcome: { kind: 'failed', retryable: false, error: describeProviderError(err) } };
      }
      if (!(err instanceof ProviderOutcomeUnknownError)) {
        this.ctx.deps.log?.warn(
          { error: describeProviderError(err) },
          'untyped provider error: outcome treated as unknown',
        );
      }
      return { outcome: { kind: 'unknown' } };
    }
  }

  private async recordProviderOptOut(shopId: string, customerKey: string, key: string, code: string): Promise<void> {
    const { smsOptOuts, log } = this.ctx.deps;
    if (!smsOptOuts) return;
    try {
      await smsOptOuts.optOutCustomer({
        shopId,
        customerKey,
        at: this.ctx.now(),
        source: `provider:${code}`,
        causationId: `sms-opt-out:${key}`,
      });
    } catch (err) {
      // The step is skipped either way; the next send to the number reports the opt-out again.
      log?.warn({ key, error: describeProviderError(err) }, 'provider-reported SMS opt-out not recorded');
    }
  }

  /**
   * Read from the log itself (the cart, the customer and the recovery streams), not from what the
   * recovery has been fed yet: a purchase, or an opt-out / bounce / complaint of this channel, recorded
   * since the step was checked stops the send.
   */
  private async stoppedMeanwhile(
    shopId: string,
    cartId: string,
    recoveryId: string,
    customerKey: string,
    channel: Channel,
  ): Promise<StepOutcomeResult | undefined> {
    const { store } = this.ctx.deps;
    const [cart, customer, recovery] = await Promise.all([
      readCart(store, shopId, cartId),
      readCustomer(store, shopId, customerKey),
      loadRecovery(store, recoveryId),
    ]);
    const ended = recovery.state.status === 'ended' ? recovery.state.endReason : undefined;
    if (isCartConverted(cart) || ended === 'purchased') return { kind: 'stopped', reason: 'purchased' };
    if (ended === 'opted-out' || recovery.state.revoked.includes(channel))
      return { kind: 'skipped', reason: 'channel-opted-out' };
    // Push consent lives with the device registration, not in the customer's record.
    const status = channel === 'push' ? undefined : consentOf(customer, cart)[channel]?.status;
    if (status === 'unsubscribed' || status === 'bounced' || status === 'complained')
      return { kind: 'skipped', reason: status };
    return undefined;
  }
}

function failedRetryable(err: RetryableProviderError): StepOutcomeResult {
  return {
    kind: 'failed',
    retryable: true,
    error: describeProviderError(err),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
  };
}

import { randomUUID } from 'node:crypto';
import { parseRecoveryId, type CartContents, type Channel, type SoldOutLine } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { ChannelPort, RecoveryShop } from '@reclaim/ports';
import {
  TemplateMessageRenderer,
  type RenderItem,
  type RenderMessageInput,
  type RenderSoldOutItem,
} from '../../messages/renderer';
import type { TemplateOverrides } from '../../messages/ports';
import { utmParametersFor, utmSettingsOf } from '../../messages/utm';
import { validateTemplate, type TemplatePart, type TemplateSource } from '../../messages/template-engine';
import type { Queryable } from '../db';
import { maskRecipient } from '../effects/default-adapters';
import { renderShopOf } from '../effects/message-content';
import { readCart } from '../facts';
import type { ShopLookup } from '../ports';
import { loadRecovery } from '../recovery-stream';
import type { ShopProfiles } from '../settings/shop-settings';

/**
 * Previews and test sends of recovery messages, for the dashboard's message list and template
 * editor. A preview is rendered with the real renderer from a cart of the shop (its latest
 * snapshot from the log) or a sample cart, never with contact details: no name, no address, and
 * placeholder links (no unsubscribe or tracking token is minted for a preview). A test send goes
 * through the shop's configured e-mail channel to an address the merchant types; it is recorded in
 * `engine.test_sends` (masked recipient) and belongs to no recovery, so it never counts as one.
 */
export interface MessagePreviewDeps {
  readonly store: EventStore;
  readonly pool: Queryable;
  readonly shops: ShopLookup;
  readonly profiles: ShopProfiles;
  readonly overrides: TemplateOverrides;
  readonly channels: Partial<Record<Channel, ChannelPort>>;
  /** The appliance's public URL: the placeholder links point there. */
  readonly publicUrl: string;
  readonly clock: { now(): Date };
}

/** The cart a preview is rendered with. */
export type PreviewCart = { readonly source: 'cart'; readonly cartId: string } | { readonly source: 'sample' };

export interface PreviewRequest {
  readonly shopId: string;
  readonly templateId: string;
  readonly kind?: 'sales' | 'help';
  readonly step?: number;
  /** A draft to render instead of the stored template (checked first; errors are returned, not thrown). */
  readonly draft?: TemplateSource;
  /** A cart of the shop (its latest snapshot); the sample cart when absent or unknown. */
  readonly cartId?: string;
  /** Shows the discount block as the step would (a sample code). */
  readonly discountPercent?: number;
}

export type PreviewResult =
  | {
      readonly ok: true;
      readonly subject: string;
      readonly html: string;
      readonly text: string;
      readonly origin: 'override' | 'default' | 'fallback' | 'draft';
      readonly cart: PreviewCart;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly field: TemplatePart | 'shop'; readonly error: string };

export type TestSendResult =
  | { readonly ok: true; readonly testSendId: string; readonly messageId: string; readonly recipient: string }
  | { readonly ok: false; readonly field: TemplatePart | 'to' | 'channel' | 'shop'; readonly error: string };

const SAMPLE_ITEMS: readonly RenderItem[] = [
  { title: 'Sample product', variantTitle: 'Blue / M', quantity: 2, unitPrice: '24.00', priceChanged: false },
  { title: 'Another sample product', quantity: 1, unitPrice: '12.50', priceChanged: false },
];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class MessagePreviews {
  constructor(private readonly deps: MessagePreviewDeps) {}

  /** Renders a stored template or a draft with a cart of the shop (or the sample cart). */
  async preview(request: PreviewRequest): Promise<PreviewResult> {
    const shop = await this.deps.shops.get(request.shopId);
    if (!shop) return { ok: false, field: 'shop', error: `no shop ${request.shopId}` };
    if (request.draft !== undefined) {
      const check = validateTemplate(request.draft);
      if (!check.ok) return { ok: false, field: check.field, error: check.error };
    }
    const { items, cartValue, checkoutUrl, locale, cart } = await this.cartFor(shop, request.cartId);
    const input = await this.input(shop, request, request.draft?.channel ?? 'email', {
      items,
      cartValue,
      checkoutUrl,
      locale,
    });
    try {
      const rendered = await this.renderer(request.draft).render(input);
      return {
        ok: true,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        origin: request.draft !== undefined ? 'draft' : rendered.template.origin,
        cart,
        warnings: rendered.warnings,
      };
    } catch (err) {
      return { ok: false, field: 'shop', error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * A message as it was sent: re-rendered from the send record in the log (template, cart value,
   * discount) and the cart's snapshot, without contact details and with placeholder links.
   */
  async sent(recoveryId: string, step: number): Promise<PreviewResult | undefined> {
    if (parseRecoveryId(recoveryId) === undefined) return undefined;
    const loaded = await loadRecovery(this.deps.store, recoveryId);
    const sent = [...loaded.events]
      .reverse()
      .find((e) => e.type === 'recovery.message-sent' && e.step === step && e.sent !== undefined);
    if (sent === undefined || sent.type !== 'recovery.message-sent' || sent.sent === undefined) return undefined;
    const summary = sent.sent;
    const ids = parseRecoveryId(recoveryId);
    if (ids === undefined) return undefined;
    const { shopId, cartId } = ids;
    const shop = await this.deps.shops.get(shopId);
    if (!shop) return undefined;
    // What the store answered about the step's sold-out lines: the alternatives shown in their place.
    const checked = [...loaded.events]
      .reverse()
      .find((e) => e.type === 'recovery.alternatives-checked' && e.step === step);
    const soldOut = checked?.type === 'recovery.alternatives-checked' ? checked.lines : [];
    const replaced = new Set((summary.replaced ?? []).map((r) => r.lineId));
    const { items, checkoutUrl, locale, soldOutItems } = await this.cartFor(shop, cartId, summary.leftOut, {
      soldOut,
      replaced,
    });
    const input = await this.input(
      shop,
      { shopId, templateId: summary.template.id, kind: summary.template.kind, step },
      summary.channel,
      { items, cartValue: summary.cartValue, checkoutUrl, locale },
      loaded.state.sequence?.id,
    );
    const withDiscount: RenderMessageInput =
      summary.discount !== undefined && sent.discountCode !== undefined
        ? { ...input, discount: { code: sent.discountCode, ...summary.discount } }
        : input;
    try {
      const rendered = await this.renderer().render({
        ...withDiscount,
        currency: summary.currency,
        ...(soldOutItems.length > 0 ? { soldOut: soldOutItems } : {}),
      });
      return {
        ok: true,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        origin: rendered.template.origin,
        cart: { source: 'cart', cartId },
        warnings: rendered.warnings,
      };
    } catch (err) {
      return { ok: false, field: 'shop', error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Sends a preview to `to` through the shop's e-mail channel and records it (never a recovery). */
  async testSend(request: PreviewRequest & { readonly to: string }): Promise<TestSendResult> {
    const to = typeof request.to === 'string' ? request.to.trim() : '';
    if (!EMAIL.test(to) || to.length > 320) return { ok: false, field: 'to', error: 'must be an e-mail address' };
    const port = this.deps.channels.email;
    if (port === undefined) return { ok: false, field: 'channel', error: 'no e-mail provider is configured' };
    const preview = await this.preview(request);
    if (!preview.ok) return preview;
    const id = `test-send-${randomUUID()}`;
    const now = this.deps.clock.now();
    let messageId: string | null = null;
    let error: string | null = null;
    try {
      messageId = (
        await port.send({
          idempotencyKey: `${id}:step-${request.step ?? 0}:email`,
          channel: 'email',
          to,
          subject: `[Test] ${preview.subject}`,
          html: preview.html,
          text: preview.text,
          headers: {},
          context: { shopId: request.shopId, recoveryId: id, step: request.step ?? 0, customerKey: id },
        })
      ).messageId;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const recipient = maskRecipient(to);
    await this.deps.pool.query(
      `INSERT INTO engine.test_sends (test_send_id, shop_id, template_id, channel, recipient_masked, subject,
                                      message_id, error, cart_source, sent_at)
       VALUES ($1, $2, $3, 'email', $4, $5, $6, $7, $8, $9)`,
      [id, request.shopId, request.templateId, recipient, preview.subject, messageId, error, preview.cart.source, now],
    );
    if (error !== null || messageId === null) {
      return { ok: false, field: 'channel', error: `the e-mail provider refused: ${error ?? 'no message id'}` };
    }
    return { ok: true, testSendId: id, messageId, recipient };
  }

  /** The shop's test sends, newest first (masked recipients). */
  async testSends(shopId: string, limit = 20) {
    const { rows } = await this.deps.pool.query<{
      test_send_id: string;
      template_id: string;
      recipient_masked: string;
      subject: string;
      message_id: string | null;
      error: string | null;
      cart_source: string;
      sent_at: Date;
    }>(
      `SELECT test_send_id, template_id, recipient_masked, subject, message_id, error, cart_source, sent_at
         FROM engine.test_sends WHERE shop_id = $1 ORDER BY sent_at DESC, test_send_id LIMIT $2`,
      [shopId, limit],
    );
    return rows.map((r) => ({
      testSendId: r.test_send_id,
      templateId: r.template_id,
      recipient: r.recipient_masked,
      subject: r.subject,
      messageId: r.message_id,
      error: r.error,
      cart: r.cart_source,
      sentAt: r.sent_at.toISOString(),
    }));
  }

  private renderer(draft?: TemplateSource): TemplateMessageRenderer {
    const overrides = this.deps.overrides;
    return new TemplateMessageRenderer({
      overrides: {
        findTemplate: async (shopId, templateId, channel) =>
          draft !== undefined && draft.channel === channel
            ? draft
            : overrides.findTemplate(shopId, templateId, channel),
      },
    });
  }

  private async cartFor(
    shop: RecoveryShop,
    cartId: string | undefined,
    leftOut: readonly string[] = [],
    stock: { readonly soldOut: readonly SoldOutLine[]; readonly replaced: ReadonlySet<string> } = {
      soldOut: [],
      replaced: new Set(),
    },
  ): Promise<{
    items: RenderItem[];
    cartValue: string;
    checkoutUrl: string;
    locale?: string;
    cart: PreviewCart;
    soldOutItems: RenderSoldOutItem[];
  }> {
    const sample = {
      items: [...SAMPLE_ITEMS],
      cartValue: '60.50',
      checkoutUrl: `https://${shop.shopDomain}/cart`,
      cart: { source: 'sample' } as const,
      soldOutItems: [],
    };
    if (cartId === undefined) return sample;
    const state = await readCart(this.deps.store, shop.id, cartId);
    const snapshot: CartContents | undefined = state.snapshot;
    if (snapshot === undefined || snapshot.lineItems.length === 0) return sample;
    const skipped = new Set(leftOut);
    const alternatives = new Map(stock.soldOut.map((l) => [l.lineId, l.alternative]));
    return {
      items: snapshot.lineItems
        .filter((l) => !skipped.has(l.lineId))
        .map((l): RenderItem => {
          const alternative = stock.replaced.has(l.lineId) ? alternatives.get(l.lineId) : undefined;
          if (alternative !== undefined) {
            return {
              title: alternative.title,
              ...(alternative.variantTitle !== undefined ? { variantTitle: alternative.variantTitle } : {}),
              ...(alternative.imageUrl !== undefined ? { imageUrl: alternative.imageUrl } : {}),
              quantity: l.quantity,
              unitPrice: alternative.unitPrice,
              priceChanged: false,
              replaces: l.title,
            };
          }
          return {
            title: l.title,
            ...(l.variantTitle !== undefined ? { variantTitle: l.variantTitle } : {}),
            ...(l.imageUrl !== undefined ? { imageUrl: l.imageUrl } : {}),
            quantity: l.quantity,
            unitPrice: l.unitPrice,
            priceChanged: false,
          };
        }),
      soldOutItems: snapshot.lineItems
        .filter((l) => skipped.has(l.lineId))
        .map((l) => ({ title: l.title, ...(l.variantTitle !== undefined ? { variantTitle: l.variantTitle } : {}) })),
      cartValue: snapshot.total,
      checkoutUrl: snapshot.checkoutUrl ?? `https://${shop.shopDomain}/cart`,
      ...(snapshot.locale !== undefined ? { locale: snapshot.locale } : {}),
      cart: { source: 'cart', cartId },
    };
  }

  private async input(
    shop: RecoveryShop,
    request: PreviewRequest,
    channel: Channel,
    cart: { items: readonly RenderItem[]; cartValue: string; checkoutUrl: string; locale?: string },
    sequenceId?: string,
  ): Promise<RenderMessageInput> {
    const profile = await this.deps.profiles.profile(shop.id);
    const kind = request.kind ?? (request.templateId.startsWith('help-') ? 'help' : 'sales');
    // The links are tagged as the real message's would be (the preview shows what analytics will see).
    const utm = utmParametersFor(profile.utm ?? utmSettingsOf(undefined), {
      channel,
      sequenceId,
      step: request.step ?? 0,
      templateId: request.templateId,
      kind,
    });
    const base = this.deps.publicUrl.replace(/\/+$/, '');
    const percent = request.discountPercent;
    return {
      templateId: request.templateId,
      kind,
      channel,
      ...(request.step !== undefined ? { step: request.step } : {}),
      ...(cart.locale !== undefined ? { locale: cart.locale } : {}),
      shop: renderShopOf(shop, profile),
      items: cart.items,
      cartValue: cart.cartValue,
      currency: shop.currency,
      ...(percent !== undefined && percent > 0
        ? {
            discount: {
              code: 'PREVIEW-CODE',
              percent,
              expiresAt: new Date(this.deps.clock.now().getTime() + 2 * 86_400_000).toISOString(),
            },
          }
        : {}),
      checkoutUrl: cart.checkoutUrl,
      unsubscribeUrl: `${base}/u/preview`,
      ...(utm !== undefined ? { utm } : {}),
      clickUrl: (target) => target,
    };
  }
}

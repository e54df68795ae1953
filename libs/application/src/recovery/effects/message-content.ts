/** What a recovery message says: the renderer's input from the send decision, cart, shop and links. */
import type { CartState, ContactDetails, SendDecision, SoldOutLine } from '@reclaim/domain';
import type { MessageLinkFactory, RenderMessageInput } from '../ports';
import type { RenderShop } from '../../messages/renderer';
import { utmParametersFor, utmSettingsOf } from '../../messages/utm';
import type { RecoveryShop } from '@reclaim/ports';
import type { ShopProfile } from '../settings/shop-settings';

/** The shop as the renderer sees it: storefront, name and postal address (R25), currency, zone. */
export function renderShopOf(shop: RecoveryShop, profile: Pick<ShopProfile, 'name' | 'postalAddress'>): RenderShop {
  return {
    id: shop.id,
    ...(profile.name !== undefined ? { name: profile.name } : {}),
    domain: shop.shopDomain,
    postalAddress: profile.postalAddress,
    currency: shop.currency,
    timeZone: shop.timezone,
  };
}

export function renderInputOf(input: {
  readonly decision: SendDecision;
  readonly step: number;
  readonly shop: RecoveryShop;
  readonly profile: Pick<ShopProfile, 'name' | 'postalAddress' | 'utm'>;
  /** The recovery's sequence (`utm_campaign`). */
  readonly sequenceId: string | undefined;
  readonly cart: CartState;
  readonly contact: ContactDetails | null;
  readonly links: ReturnType<MessageLinkFactory['forMessage']>;
  readonly discountCode: string | undefined;
  /** The step's subject line (its variant's, RFC 0016), over the template's. */
  readonly subject?: string;
  /** The step's sold-out lines: what an alternative replaces, and the lines announced as sold out. */
  readonly soldOut?: readonly SoldOutLine[];
}): RenderMessageInput {
  const { decision: sent, step, shop, profile, cart, contact, links, discountCode } = input;
  const soldOut = new Map((input.soldOut ?? []).map((l) => [l.lineId, l]));
  const utm = utmParametersFor(profile.utm ?? utmSettingsOf(undefined), {
    channel: sent.channel,
    sequenceId: input.sequenceId,
    step,
    templateId: sent.template.id,
    kind: sent.template.kind,
  });
  const lines = new Map((cart.snapshot?.lineItems ?? []).map((l) => [l.lineId, l]));
  return {
    templateId: sent.template.id,
    ...(sent.template.variant !== undefined ? { variant: sent.template.variant } : {}),
    kind: sent.template.kind,
    channel: sent.channel,
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    step,
    ...(cart.snapshot?.locale !== undefined ? { locale: cart.snapshot.locale } : {}),
    shop: renderShopOf(shop, profile),
    ...(contact?.firstName ? { customerName: contact.firstName } : {}),
    items: sent.items.map((i) => {
      const replaced = i.replacesLineId !== undefined ? soldOut.get(i.replacesLineId) : undefined;
      const alternative = replaced?.alternative;
      if (replaced !== undefined && alternative !== undefined) {
        const original = lines.get(replaced.lineId);
        return {
          title: alternative.title,
          ...(alternative.variantTitle !== undefined ? { variantTitle: alternative.variantTitle } : {}),
          ...(alternative.imageUrl !== undefined ? { imageUrl: alternative.imageUrl } : {}),
          ...(alternative.productUrl !== undefined ? { productUrl: alternative.productUrl } : {}),
          quantity: i.quantity,
          unitPrice: i.unitPrice,
          priceChanged: false,
          replaces: original?.title ?? replaced.title ?? replaced.productId,
        };
      }
      const line = lines.get(i.lineId);
      return {
        title: line?.title ?? i.title ?? i.productId,
        ...(line?.variantTitle !== undefined ? { variantTitle: line.variantTitle } : {}),
        ...(line?.imageUrl !== undefined ? { imageUrl: line.imageUrl } : {}),
        ...(line?.productUrl !== undefined ? { productUrl: line.productUrl } : {}),
        quantity: i.quantity,
        unitPrice: i.unitPrice,
        priceChanged: i.priceChanged,
      };
    }),
    ...(sent.leftOut.length > 0
      ? {
          soldOut: sent.leftOut.map((lineId) => {
            const line = lines.get(lineId);
            const fact = soldOut.get(lineId);
            const notifyUrl = links.notifyUrl?.(lineId);
            return {
              title: line?.title ?? fact?.title ?? fact?.productId ?? lineId,
              ...(line?.variantTitle !== undefined ? { variantTitle: line.variantTitle } : {}),
              ...(line?.productUrl !== undefined ? { productUrl: line.productUrl } : {}),
              ...(notifyUrl !== undefined ? { notifyUrl } : {}),
            };
          }),
        }
      : {}),
    ...(cart.snapshot?.shipping !== undefined ? { shipping: cart.snapshot.shipping } : {}),
    cartValue: sent.cartValue,
    currency: sent.currency,
    ...(sent.discount !== undefined && discountCode !== undefined
      ? { discount: { code: discountCode, percent: sent.discount.percent, expiresAt: sent.discount.expiresAt } }
      : {}),
    checkoutUrl: cart.snapshot?.checkoutUrl ?? `https://${shop.shopDomain}/cart`,
    unsubscribeUrl: links.unsubscribeUrl,
    ...(links.trackingPixelUrl !== undefined ? { trackingPixelUrl: links.trackingPixelUrl } : {}),
    ...(utm !== undefined ? { utm } : {}),
    clickUrl: links.clickUrl,
  };
}

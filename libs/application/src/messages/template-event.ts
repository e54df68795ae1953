/**
 * Template mode (Klaviyo): instead of the message Reclaim rendered, the structured properties of
 * the event the merchant's own Klaviyo flow and template render (`event.items`, `event.discount`,
 * `event.restore_url`…). Reclaim still decides who, when, whether and with what code; the links are
 * Reclaim's signed ones (restore through the click tracker, unsubscribe with its token). Documented
 * property by property in docs/klaviyo.md; docs/klaviyo-template.html is an example template.
 * No personal data: no name, no address (Klaviyo's template has them on its own profile).
 */
import Decimal from 'decimal.js';
import { formatMoney, isDecimalAmount, multiplyAmount, safeLocale } from './money-format';
import { RenderInputError, type RenderMessageInput } from './renderer';
import { isPublicHttpUrl } from './url-safety';
import { withUtm } from './utm';

/** Version of the properties' shape (`reclaim_template_version`): a template can check it. */
export const TEMPLATE_EVENT_VERSION = 1;

export interface TemplateEventItem {
  readonly title: string;
  readonly variant: string | null;
  readonly image_url: string | null;
  /** The product page through Reclaim's click tracker, else the restore link. */
  readonly url: string;
  readonly quantity: number;
  /** Decimal strings in `currency`, and the same formatted for the shopper's locale. */
  readonly unit_price: string;
  readonly unit_price_text: string;
  readonly line_total: string;
  readonly line_total_text: string;
  readonly price_changed: boolean;
  /** The sold-out item this one is offered in place of (its title), else null. */
  readonly replaces: string | null;
}

export type TemplateEventProperties = {
  readonly reclaim_template_version: number;
  readonly template_id: string;
  /** `sales` or `help` (the support-oriented copy). */
  readonly template_kind: 'sales' | 'help';
  /** 0-based step of the sequence, and the same 1-based for copy. */
  readonly step: number;
  readonly step_number: number;
  readonly segment: string | null;
  readonly segments: readonly string[];
  /** The recovery score when one was recorded for this recovery, else null. */
  readonly score: number | null;
  readonly shop: { readonly name: string; readonly domain: string; readonly url: string };
  readonly items: readonly TemplateEventItem[];
  readonly item_count: number;
  readonly currency: string;
  readonly cart_total: string;
  readonly cart_total_text: string;
  readonly discount: {
    readonly code: string;
    readonly percent: number;
    /** ISO-8601 instant, and the same for copy in the shop's zone. */
    readonly expires_at: string;
    readonly expires_at_text: string;
  } | null;
  /** Lines named as sold out (no alternative fits), each with its "notify me" link when there is one. */
  readonly sold_out: readonly {
    readonly title: string;
    readonly variant: string | null;
    readonly notify_url: string | null;
  }[];
  /** The chosen shipping option and its estimate, where the platform states them, else null. */
  readonly shipping: { readonly method: string | null; readonly estimate: string | null } | null;
  /** Back to the cart (with the code applied), through Reclaim's click tracker. */
  readonly restore_url: string;
  readonly unsubscribe_url: string;
};

function expiryText(at: string | Date, locale: string, timeZone: string | undefined): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RenderInputError('discount.expiresAt is not a date');
  try {
    return new Intl.DateTimeFormat(locale, {
      dateStyle: 'long',
      timeStyle: 'short',
      timeZone: timeZone ?? 'UTC',
      timeZoneName: 'short',
    }).format(date);
  } catch {
    return date.toISOString();
  }
}

/** The event properties of one message in template mode (throws `RenderInputError` on bad input, like the renderer). */
export function templateEventProperties(
  input: RenderMessageInput,
  recovery: { readonly segments: readonly string[]; readonly score?: number },
): TemplateEventProperties {
  const locale = safeLocale(input.locale);
  let scale = 2;
  try {
    scale =
      new Intl.NumberFormat('en', { style: 'currency', currency: input.currency }).resolvedOptions()
        .maximumFractionDigits ?? 2;
  } catch {
    scale = 2;
  }
  const money = (amount: string, what: string) => {
    if (!isDecimalAmount(amount)) throw new RenderInputError(`${what} is not a decimal amount`);
    // The plain amount with the currency's minor digits ("120.00"), and the same formatted ("$120.00").
    return { value: new Decimal(amount).toFixed(scale), text: formatMoney(amount, input.currency, locale) };
  };
  let checkout: URL;
  try {
    checkout = withUtm(new URL(input.checkoutUrl), input.utm);
  } catch {
    throw new RenderInputError('checkoutUrl is not a URL');
  }
  if (input.discount !== undefined && !checkout.searchParams.has('discount')) {
    checkout.searchParams.set('discount', input.discount.code);
  }
  const restoreUrl = input.clickUrl(checkout.href);
  const items = input.items.map((item, i): TemplateEventItem => {
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 0) {
      throw new RenderInputError(`items[${i}].quantity is not a whole number`);
    }
    const unit = money(item.unitPrice, `items[${i}].unitPrice`);
    const total = money(multiplyAmount(item.unitPrice, item.quantity), `items[${i}].lineTotal`);
    const product =
      item.productUrl !== undefined && isPublicHttpUrl(item.productUrl)
        ? input.clickUrl(withUtm(new URL(item.productUrl), input.utm).href)
        : restoreUrl;
    return {
      title: item.title,
      variant: item.variantTitle ?? null,
      image_url: item.imageUrl !== undefined && isPublicHttpUrl(item.imageUrl) ? item.imageUrl : null,
      url: product,
      quantity: item.quantity,
      unit_price: unit.value,
      unit_price_text: unit.text,
      line_total: total.value,
      line_total_text: total.text,
      price_changed: item.priceChanged,
      replaces: item.replaces ?? null,
    };
  });
  const cartTotal = money(input.cartValue, 'cartValue');
  const step = input.step ?? 0;
  const d = input.discount;
  return {
    reclaim_template_version: TEMPLATE_EVENT_VERSION,
    template_id: input.templateId,
    template_kind: input.kind,
    step,
    step_number: step + 1,
    segment: recovery.segments[0] ?? null,
    segments: [...recovery.segments],
    score: recovery.score ?? null,
    shop: {
      name: input.shop.name ?? input.shop.domain,
      domain: input.shop.domain,
      url: withUtm(new URL(checkout.origin), input.utm).href,
    },
    items,
    item_count: items.length,
    currency: input.currency,
    cart_total: cartTotal.value,
    cart_total_text: cartTotal.text,
    discount:
      d === undefined
        ? null
        : {
            code: d.code,
            percent: d.percent,
            expires_at: new Date(d.expiresAt).toISOString(),
            expires_at_text: expiryText(d.expiresAt, locale, input.shop.timeZone),
          },
    sold_out: (input.soldOut ?? []).map((o) => ({
      title: o.title,
      variant: o.variantTitle ?? null,
      notify_url: o.notifyUrl ?? null,
    })),
    shipping:
      input.shipping === undefined || (input.shipping.method === undefined && input.shipping.estimate === undefined)
        ? null
        : { method: input.shipping.method ?? null, estimate: input.shipping.estimate ?? null },
    restore_url: restoreUrl,
    unsubscribe_url: input.unsubscribeUrl,
  };
}

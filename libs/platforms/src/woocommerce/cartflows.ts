import { createHash } from 'node:crypto';
import type { CheckoutStage, InboundCommand, RecordCartActivity } from '@reclaim/domain';
import type { InspectError, InspectOk, InspectResult, MappingContext, MappingResult, RawWebhook } from '@reclaim/ports';
import { isObject, mediaType, moneyField, PayloadFieldError, safeMap, validateCurrency } from '../common';

/**
 * The CartFlows "WooCommerce Cart Abandonment Recovery" plugin's webhook: a form-encoded POST
 * with the fields below, unsigned and without custom headers. The HTTP layer serves it at a
 * per-shop secret URL, so the URL is the authentication and tells which shop it is.
 */
export const CARTFLOWS_FIELDS = [
  'first_name',
  'last_name',
  'phone_number',
  'billing_address',
  'shipping_address',
  'email',
  'checkout_url',
  'product_names',
  'coupon_code',
  'order_status',
  'cart_total',
  'product_table',
] as const;

export type CartFlowsField = (typeof CARTFLOWS_FIELDS)[number];
export type CartFlowsFields = Partial<Record<CartFlowsField, string>>;

export interface CartFlowsParsed {
  readonly ok: true;
  /** Digest of the exact body: the plugin sends each state once, so equal bodies are duplicates. */
  readonly deliveryId: string;
  readonly fields: CartFlowsFields;
}

export function parseCartFlowsWebhook(raw: RawWebhook): CartFlowsParsed | InspectError {
  try {
    const type = mediaType(raw);
    if (type !== 'application/x-www-form-urlencoded') {
      return {
        ok: false,
        status: 415,
        error:
          type === undefined
            ? 'missing Content-Type; send application/x-www-form-urlencoded'
            : `expected a form-encoded body, got ${type.slice(0, 80)}`,
        field: 'content-type',
      };
    }
    const text = raw.body.toString('utf8');
    if (text.trim() === '') return { ok: false, status: 400, error: 'empty body', field: 'body' };
    const params = new URLSearchParams(text);
    const fields: CartFlowsFields = {};
    for (const name of CARTFLOWS_FIELDS) {
      const v = params.get(name);
      if (v !== null) fields[name] = v;
    }
    if (fields.checkout_url === undefined && fields.email === undefined) {
      return {
        ok: false,
        status: 400,
        error: 'neither checkout_url nor email: not a CartFlows payload',
        field: 'body',
      };
    }
    return { ok: true, deliveryId: `cartflows:sha256:${createHash('sha256').update(raw.body).digest('hex')}`, fields };
  } catch {
    return { ok: false, status: 400, error: 'unreadable delivery' };
  }
}

function trimmed(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

/**
 * The cart key: the plugin's `wcf_ac_token` from the recovery link (one per cart session), else a
 * digest of the lower-cased email (never the email itself: stream names are not encrypted).
 */
export function cartFlowsCartId(fields: CartFlowsFields): string {
  const url = trimmed(fields.checkout_url);
  if (url !== undefined) {
    try {
      const token = new URL(url).searchParams.get('wcf_ac_token')?.trim();
      if (token !== undefined && /^[\x21-\x7e]{1,200}$/.test(token)) return `wcf:${token}`;
    } catch {
      // not a URL: fall through to the email
    }
  }
  const email = trimmed(fields.email)?.toLowerCase();
  if (email === undefined)
    throw new PayloadFieldError('checkout_url', 'no wcf_ac_token and no email to key the cart by');
  return `wcf-email:${createHash('sha256').update(email).digest('hex').slice(0, 32)}`;
}

/** The plugin captures the checkout form: a shipping address typed means the shipping step, an e-mail or phone the contact step. */
function cartFlowsStage(fields: CartFlowsFields): CheckoutStage {
  if (trimmed(fields.shipping_address) !== undefined) return 'shipping';
  if (trimmed(fields.email) !== undefined || trimmed(fields.phone_number) !== undefined) return 'contact';
  return 'cart';
}

/**
 * CartFlows payload → cart activity; `order_status` "abandoned" adds ReportCartAbandoned,
 * "completed" adds CompleteCheckout. The plugin sends no line items (only names and an HTML
 * table), so `lineItems` is empty and amounts are the cart total, in the shop's currency.
 */
export function mapCartFlowsWebhook(
  fields: CartFlowsFields,
  ctx: { shopCurrency: string; receivedAt: Date },
): MappingResult {
  return safeMap(() => {
    const currency = validateCurrency(ctx.shopCurrency);
    if (!currency.ok) throw new PayloadFieldError('shopCurrency', currency.reason);
    const cartId = cartFlowsCartId(fields);
    const total = moneyField(fields.cart_total, 'cart_total');
    const at = ctx.receivedAt.toISOString();
    const activity: RecordCartActivity = {
      type: 'RecordCartActivity',
      platform: 'woocommerce',
      platformUpdatedAt: at,
      cartId,
      source: 'checkout',
      customer: {},
      contact: {
        email: trimmed(fields.email),
        phone: trimmed(fields.phone_number),
        firstName: trimmed(fields.first_name),
        lastName: trimmed(fields.last_name),
        address: trimmed(fields.billing_address) ?? trimmed(fields.shipping_address),
      },
      lineItems: [],
      currency: currency.value,
      subtotal: total,
      total,
      checkoutUrl: trimmed(fields.checkout_url),
      checkoutStage: cartFlowsStage(fields),
      // The plugin sends no referrer, landing page or user agent.
      trafficSource: 'unknown',
    };
    const status = trimmed(fields.order_status)?.toLowerCase();
    const list: InboundCommand[] = [activity];
    if (status === 'abandoned')
      list.push({ type: 'ReportCartAbandoned', platform: 'woocommerce', platformUpdatedAt: at, cartId });
    if (status === 'completed') {
      list.push({ type: 'CompleteCheckout', platform: 'woocommerce', platformUpdatedAt: at, cartId, completedAt: at });
    }
    return { outcome: 'commands', commands: list };
  });
}

export const CARTFLOWS_TOPIC = 'cartflows';

/**
 * The CartFlows delivery in the adapters' shape, for the per-shop secret URL: `shopDomain` is the
 * shop the URL belongs to; `payload` holds the form fields.
 */
export function inspectCartflows(raw: RawWebhook, shopDomain: string): InspectResult {
  const parsed = parseCartFlowsWebhook(raw);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    platform: 'woocommerce',
    shopDomain,
    topic: CARTFLOWS_TOPIC,
    deliveryId: parsed.deliveryId,
    payload: parsed.fields,
    receivedAt: raw.receivedAt,
  };
}

/** `mapCartFlowsWebhook` for an `inspectCartflows` result. */
export function mapCartflows(inspected: InspectOk, ctx: MappingContext): MappingResult {
  if (inspected.topic !== CARTFLOWS_TOPIC || !isObject(inspected.payload)) {
    return { outcome: 'invalid', reason: 'not a CartFlows delivery', field: '$' };
  }
  const fields: CartFlowsFields = {};
  for (const name of CARTFLOWS_FIELDS) {
    const v = inspected.payload[name];
    if (typeof v === 'string') fields[name] = v;
  }
  return mapCartFlowsWebhook(fields, { shopCurrency: ctx.shopCurrency, receivedAt: inspected.receivedAt });
}

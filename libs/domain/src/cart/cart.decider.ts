import type {
  CartAbandonedByPlatform,
  CartActivityRecorded,
  CartCheckoutCompleted,
  CartCommand,
  CartDeleted,
  CartEvent,
  CartPurchased,
  CompleteCheckoutCommand,
  DeleteCartCommand,
  MarkCartPurchasedCommand,
  RecordCartActivityCommand,
  ReportCartAbandonedCommand,
  ShippingChoice,
} from './cart.messages';
import { event } from '../events/catalogue';
import type { RecordedConsent } from '../events/envelope';
import type { CartLineItem, ConsentSnapshot, IsoTimestamp, Platform } from '../inbound/inbound-types';
import { NO_REACH, type ContactReach } from '../shared/contact';
import { rememberCausation, type Decider } from '../shared/decider';
import type { SealedValue } from '../shared/sealed-value';
import { effectivePlatformTime, isAfter } from '../shared/time';
import { InvalidCommandError } from '../shared/decider';
import { validCurrency, validId, validLineItems, validMoney, validTimestamp } from '../shared/validation';
import type { CheckoutStage } from '../recovery/types';

export type CartStatus = 'none' | 'active' | 'abandoned' | 'checkout-completed' | 'purchased' | 'deleted';

/** What the cart looked like at its latest platform update. */
export interface CartContents {
  readonly source: 'cart' | 'checkout';
  readonly cartToken?: string;
  readonly lineItems: readonly CartLineItem[];
  readonly currency: string;
  readonly subtotal: string;
  readonly total: string;
  readonly checkoutUrl?: string;
  readonly landingSite?: string;
  readonly referrer?: string;
  readonly device?: string;
  readonly trafficSource?: string;
  readonly checkoutStage?: CheckoutStage;
  readonly locale?: string;
  /** IANA zone from the checkout's address. */
  readonly timeZone?: string;
  /** The chosen shipping option and its delivery estimate, where the platform states them. */
  readonly shipping?: ShippingChoice;
  readonly emailConsent?: RecordedConsent;
  readonly smsConsent?: RecordedConsent;
}

export interface CartState {
  readonly status: CartStatus;
  readonly cartId?: string;
  readonly platform?: Platform;
  /** Effective platform time of the snapshot; older activity is ignored. */
  readonly lastPlatformUpdatedAt?: IsoTimestamp;
  readonly snapshot?: CartContents;
  readonly customerKey?: string;
  readonly platformCustomerId?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly abandonedAt?: IsoTimestamp;
  readonly checkoutCompletedAt?: IsoTimestamp;
  readonly orderId?: string;
  readonly purchasedAt?: IsoTimestamp;
  readonly deletedAt?: IsoTimestamp;
  /** The last causation ids applied (bounded), so a duplicate delivery decides nothing. */
  readonly seenCausationIds: readonly string[];
}

export const initialCartState = (): CartState => ({ status: 'none', reach: NO_REACH, seenCausationIds: [] });

/** The shopper bought: no reminder may go out any more. */
export function isCartConverted(state: CartState): boolean {
  return state.status === 'purchased' || state.status === 'checkout-completed';
}

/**
 * States nothing but a purchase leaves. A deletion always wins over activity, in both arrival
 * orders, so the outcome does not depend on delivery order; a completed checkout or purchase
 * wins over everything (R14).
 */
function isClosed(status: CartStatus): boolean {
  return status === 'purchased' || status === 'checkout-completed' || status === 'deleted';
}

function recordConsent(
  consent: ConsentSnapshot | undefined,
  fallbackAt: string,
  receivedAt: string,
  defaultSource: string,
): RecordedConsent | undefined {
  if (!consent) return undefined;
  const at = consent.updatedAt ? effectivePlatformTime(consent.updatedAt, receivedAt).at : fallbackAt;
  return {
    state: consent.state,
    ...(consent.optInLevel !== undefined ? { optInLevel: consent.optInLevel } : {}),
    source: consent.source ?? defaultSource,
    consentUpdatedAt: at,
  };
}

function decideActivity(c: RecordCartActivityCommand, s: CartState): CartEvent[] {
  validId(c.cartId, 'cartId');
  const lineItems = validLineItems(c.lineItems);
  const currency = validCurrency(c.currency);
  const subtotal = validMoney(c.subtotal, 'subtotal');
  const total = validMoney(c.total, 'total');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  if (isClosed(s.status)) return [];
  // Stale: an update older than (or as old as) the snapshot we hold. Platforms retry and reorder
  // deliveries (Shopify: no order guarantee), so an older one is not news; applying it would roll
  // the cart back to an earlier content. Recording nothing keeps the log free of noise and makes
  // the outcome independent of arrival order (R3, R14).
  if (!isAfter(time.at, s.lastPlatformUpdatedAt)) return [];
  const consentSource = `${c.platform}:${c.source}`;
  const emailConsent = recordConsent(c.emailConsent, time.at, c.receivedAt, consentSource);
  const smsConsent = recordConsent(c.smsConsent, time.at, c.receivedAt, consentSource);
  const e = event<CartActivityRecorded>('cart.activity-recorded', {
    shopId: c.shopId,
    causationId: c.causationId,
    receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
    platform: c.platform,
    platformUpdatedAt: time.at,
    ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
    cartId: c.cartId,
    ...(c.cartToken !== undefined ? { cartToken: c.cartToken } : {}),
    source: c.source,
    ...(c.customer.platformCustomerId !== undefined ? { platformCustomerId: c.customer.platformCustomerId } : {}),
    ...(c.customerKey !== undefined ? { customerKey: c.customerKey } : {}),
    ...(c.contact !== undefined ? { contact: c.contact } : {}),
    reach: c.reach,
    lineItems,
    currency,
    subtotal,
    total,
    ...optional('checkoutUrl', c.checkoutUrl),
    ...optional('landingSite', c.landingSite),
    ...optional('referrer', c.referrer),
    ...optional('device', c.device),
    ...optional('trafficSource', c.trafficSource),
    ...(c.checkoutStage !== undefined ? { checkoutStage: validCheckoutStage(c.checkoutStage) } : {}),
    ...optional('locale', c.locale),
    ...optional('timeZone', c.timeZone),
    ...(c.shipping !== undefined ? { shipping: validShipping(c.shipping) } : {}),
    ...(emailConsent ? { emailConsent } : {}),
    ...(smsConsent ? { smsConsent } : {}),
  });
  return [e];
}

const CHECKOUT_STAGES: readonly CheckoutStage[] = ['cart', 'contact', 'shipping', 'payment'];

/** Short words from the platform (at most 200 characters each), at least one of them. */
function validShipping(v: ShippingChoice): ShippingChoice {
  const out: { method?: string; estimate?: string } = {};
  for (const field of ['method', 'estimate'] as const) {
    const value = v[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
      throw new InvalidCommandError('must be a short text', `shipping.${field}`);
    }
    out[field] = value.trim();
  }
  if (out.method === undefined && out.estimate === undefined) throw new InvalidCommandError('is empty', 'shipping');
  return out;
}

function validCheckoutStage(stage: CheckoutStage): CheckoutStage {
  if (!CHECKOUT_STAGES.includes(stage))
    throw new InvalidCommandError(`must be one of ${CHECKOUT_STAGES.join(', ')}`, 'checkoutStage');
  return stage;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function decideAbandoned(c: ReportCartAbandonedCommand, s: CartState): CartEvent[] {
  validId(c.cartId, 'cartId');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  if (isClosed(s.status)) return [];
  // Already abandoned as of this time or later: a repeated or older report adds nothing.
  if (s.abandonedAt !== undefined && !isAfter(time.at, s.abandonedAt)) return [];
  // The shopper was active after the platform's abandonment time: the report is stale.
  if (s.lastPlatformUpdatedAt !== undefined && isAfter(s.lastPlatformUpdatedAt, time.at)) return [];
  return [
    event<CartAbandonedByPlatform>('cart.abandoned-by-platform', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      platform: c.platform,
      platformUpdatedAt: time.at,
      ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
      cartId: c.cartId,
    }),
  ];
}

function decideCheckoutCompleted(c: CompleteCheckoutCommand, s: CartState): CartEvent[] {
  validId(c.cartId, 'cartId');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  const completedAt = effectivePlatformTime(c.completedAt, c.receivedAt).at;
  if (s.status === 'purchased' || s.status === 'checkout-completed') return [];
  // Recorded from any other state, deleted included: it is a purchase signal.
  return [
    event<CartCheckoutCompleted>('cart.checkout-completed', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      platform: c.platform,
      platformUpdatedAt: time.at,
      ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
      cartId: c.cartId,
      ...(c.orderId !== undefined ? { orderId: c.orderId } : {}),
      completedAt,
    }),
  ];
}

function decidePurchased(c: MarkCartPurchasedCommand, s: CartState): CartEvent[] {
  validId(c.cartId, 'cartId');
  validId(c.orderId, 'orderId');
  const placedAt = validTimestamp(c.placedAt, 'placedAt');
  // Purchased is final; a second order linking the same cart changes nothing.
  if (s.status === 'purchased') return [];
  return [
    event<CartPurchased>('cart.purchased', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      cartId: c.cartId,
      orderId: c.orderId,
      placedAt,
    }),
  ];
}

function decideDeleted(c: DeleteCartCommand, s: CartState): CartEvent[] {
  validId(c.cartId, 'cartId');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  // Recorded even for a cart we have not seen yet, so its late-arriving activity is ignored.
  if (isClosed(s.status)) return [];
  return [
    event<CartDeleted>('cart.deleted', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      platform: c.platform,
      platformUpdatedAt: time.at,
      ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
      cartId: c.cartId,
    }),
  ];
}

export function decideCart(command: CartCommand, state: CartState): CartEvent[] {
  if (state.seenCausationIds.includes(command.causationId)) return [];
  switch (command.type) {
    case 'RecordCartActivity':
      return decideActivity(command, state);
    case 'ReportCartAbandoned':
      return decideAbandoned(command, state);
    case 'CompleteCheckout':
      return decideCheckoutCompleted(command, state);
    case 'MarkCartPurchased':
      return decidePurchased(command, state);
    case 'DeleteCart':
      return decideDeleted(command, state);
  }
}

function statusAfterActivity(s: CartState, at: string): CartStatus {
  if (isClosed(s.status)) return s.status;
  return s.abandonedAt !== undefined && !isAfter(at, s.abandonedAt) ? 'abandoned' : 'active';
}

export function evolveCart(state: CartState, e: CartEvent): CartState {
  const s: CartState = { ...state, seenCausationIds: rememberCausation(state.seenCausationIds, e.data.causationId) };
  switch (e.type) {
    case 'cart.activity-recorded': {
      const d = e.data;
      const hasContact = d.contact !== undefined;
      return {
        ...s,
        status: statusAfterActivity(s, d.platformUpdatedAt),
        cartId: d.cartId,
        platform: d.platform,
        lastPlatformUpdatedAt: d.platformUpdatedAt,
        snapshot: {
          source: d.source,
          cartToken: d.cartToken,
          lineItems: d.lineItems,
          currency: d.currency,
          subtotal: d.subtotal,
          total: d.total,
          checkoutUrl: d.checkoutUrl,
          landingSite: d.landingSite,
          referrer: d.referrer,
          device: d.device,
          trafficSource: d.trafficSource,
          checkoutStage: d.checkoutStage,
          locale: d.locale,
          // A later update without an address keeps the zone already known.
          timeZone: d.timeZone ?? s.snapshot?.timeZone,
          ...(d.shipping !== undefined ? { shipping: d.shipping } : {}),
          emailConsent: d.emailConsent ?? s.snapshot?.emailConsent,
          smsConsent: d.smsConsent ?? s.snapshot?.smsConsent,
        },
        // A later update without contact details does not forget the shopper we already know.
        customerKey: d.customerKey ?? s.customerKey,
        platformCustomerId: d.platformCustomerId ?? s.platformCustomerId,
        contact: hasContact ? d.contact : s.contact,
        reach: hasContact ? d.reach : s.reach,
      };
    }
    case 'cart.abandoned-by-platform': {
      const at = e.data.platformUpdatedAt;
      const abandonedAt = s.abandonedAt === undefined || isAfter(at, s.abandonedAt) ? at : s.abandonedAt;
      const status: CartStatus = isClosed(s.status)
        ? s.status
        : s.lastPlatformUpdatedAt !== undefined && isAfter(s.lastPlatformUpdatedAt, abandonedAt)
          ? 'active'
          : 'abandoned';
      return { ...s, cartId: e.data.cartId, platform: e.data.platform, abandonedAt, status };
    }
    case 'cart.checkout-completed':
      return {
        ...s,
        cartId: e.data.cartId,
        platform: e.data.platform,
        status: s.status === 'purchased' ? 'purchased' : 'checkout-completed',
        checkoutCompletedAt: e.data.completedAt,
        orderId: s.orderId ?? e.data.orderId,
      };
    case 'cart.purchased':
      return {
        ...s,
        cartId: e.data.cartId,
        status: 'purchased',
        orderId: s.status === 'purchased' && s.orderId ? s.orderId : e.data.orderId,
        purchasedAt: s.purchasedAt ?? e.data.placedAt,
      };
    case 'cart.deleted':
      return {
        ...s,
        cartId: e.data.cartId,
        platform: e.data.platform,
        status: isClosed(s.status) ? s.status : 'deleted',
        deletedAt: s.deletedAt ?? e.data.platformUpdatedAt,
      };
  }
}

export const cartDecider: Decider<CartState, CartCommand, CartEvent> = {
  decide: decideCart,
  evolve: evolveCart,
  initialState: initialCartState,
};

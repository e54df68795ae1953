/**
 * The facts the engine reads around the pure process manager: the cart and customer streams
 * (folded with the real deciders), and the engine's small index tables. No personal data leaves
 * here except the sealed contact, which only the effect runner opens.
 */
import { experimentSeed } from './experiments';
import { randomInt } from 'node:crypto';
import {
  cartDecider,
  cartStream,
  defaultRecoveryConfig,
  ignoredOtherRecoveryMessages,
  type Channel,
  type ChannelEvidence,
  type EngagementHistory,
  type Tally,
  customerDecider,
  customerStream,
  foldEvents,
  upcastEvent,
  type CartEvent,
  type CodeFarmingHistory,
  type IncentiveEvidence,
  type CartSnapshot,
  type CartState,
  type ChannelConsent,
  type CheckoutStage,
  type ConsentState,
  type CustomerEvent,
  type CustomerFeatures,
  type CustomerState,
  type Device,
  type RecordedConsent,
  type SealedValue,
  type SequenceCatalogue,
  type ExperimentSnapshot,
  type ScoringContext,
  type StartContext,
  type UnknownInputs,
} from '@reclaim/domain';
import { readStreams, type EventStore } from '@reclaim/event-store';
import { productCategoryCache } from './categories';
import type { Queryable } from './db';
import type { ShopLookup } from './ports';
import type { SequenceRepository } from './sequences/sequence-repository';
import type { ScoringSource } from '../learning/live-models';

export async function readCart(
  store: EventStore,
  shopId: string,
  cartId: string,
  untilRevision?: bigint,
): Promise<CartState> {
  const recorded = await store.readStream(cartStream(shopId, cartId));
  const events = recorded
    .filter((r) => untilRevision === undefined || r.revision <= untilRevision)
    .map((r) => upcastEvent<CartEvent>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data }));
  return foldEvents(cartDecider, events);
}

export async function readCustomer(store: EventStore, shopId: string, customerKey: string): Promise<CustomerState> {
  const recorded = await store.readStream(customerStream(shopId, customerKey));
  const events = recorded.map((r) =>
    upcastEvent<CustomerEvent>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data }),
  );
  return foldEvents(customerDecider, events);
}

const DEVICES: readonly Device[] = ['desktop', 'mobile', 'tablet'];

function deviceOf(raw: string | undefined): Device {
  const d = raw?.toLowerCase();
  return (
    DEVICES.find((x) => x === d) ?? (d !== undefined && /mobile|phone|android|iphone/.test(d) ? 'mobile' : 'unknown')
  );
}

/** A traffic category without personal data: `utm_source` of the landing page, else the referrer's host, else direct. */
export function trafficSourceOf(landingSite: string | undefined, referrer: string | undefined): string {
  try {
    if (landingSite) {
      const utm = new URL(landingSite, 'https://shop.invalid').searchParams.get('utm_source');
      if (utm) return utm.slice(0, 64).toLowerCase();
    }
  } catch {
    // not a URL: ignore
  }
  try {
    if (referrer) return new URL(referrer).hostname.replace(/^www\./, '').slice(0, 128);
  } catch {
    // not a URL: ignore
  }
  return 'direct';
}

const PLATFORM_NAMES: Readonly<Record<string, string>> = {
  shopify: 'Shopify',
  bigcommerce: 'BigCommerce',
  woocommerce: 'WooCommerce',
};

/**
 * The cart's traffic source and device with the reason for an `unknown` one: the platform's own
 * source, else derived from the landing page and referrer (`direct` when the shopper landed with
 * no referrer); `unknown` when the payload carried none of them (e.g. BigCommerce carts, the
 * Shopify 2026-07 checkout sample), and the reason names what was missing.
 */
function sourceAndDevice(cart: CartState): { trafficSource: string; device: Device; unknownInputs?: UnknownInputs } {
  const s = cart.snapshot as NonNullable<CartState['snapshot']>;
  const what = `the ${PLATFORM_NAMES[cart.platform ?? ''] ?? 'store'} ${s.source === 'checkout' ? 'checkout' : 'cart'}`;
  const trafficSource =
    s.trafficSource ??
    (s.landingSite === undefined && s.referrer === undefined ? 'unknown' : trafficSourceOf(s.landingSite, s.referrer));
  const device = deviceOf(s.device);
  const unknownInputs: UnknownInputs = {
    ...(device === 'unknown'
      ? {
          device:
            s.device === undefined
              ? `${what} carried no user agent or device type`
              : `${what} named a device not recognised`,
        }
      : {}),
    ...(trafficSource === 'unknown'
      ? { trafficSource: `${what} carried no referrer, landing page or UTM source` }
      : {}),
  };
  return { trafficSource, device, ...(Object.keys(unknownInputs).length > 0 ? { unknownInputs } : {}) };
}

/** The recovery's view of a cart (what `CartActivity` carries), from the folded cart stream. */
export function cartSnapshotOf(cart: CartState): CartSnapshot | undefined {
  const s = cart.snapshot;
  if (s === undefined) return undefined;
  // The stage the platform's fields showed; deliveries recorded before it was mapped: a checkout
  // reached the contact step, a cart did not.
  const checkoutStage: CheckoutStage = s.checkoutStage ?? (s.source === 'checkout' ? 'contact' : 'cart');
  return {
    value: s.subtotal,
    currency: s.currency,
    items: s.lineItems.map((i) => ({
      lineId: i.lineId,
      productId: i.productId,
      ...(i.variantId !== undefined ? { variantId: i.variantId } : {}),
      title: i.variantTitle !== undefined ? `${i.title} (${i.variantTitle})` : i.title,
      quantity: i.quantity,
      unitPrice: i.unitPrice,
      ...(i.categories !== undefined ? { categories: i.categories } : {}),
    })),
    reach: { email: cart.reach.email, sms: cart.reach.sms },
    ...(cart.customerKey !== undefined ? { customerKey: cart.customerKey } : {}),
    ...sourceAndDevice(cart),
    checkoutStage,
    ...(s.timeZone !== undefined ? { timeZone: s.timeZone } : {}),
  };
}

function statusOf(state: ConsentState): ChannelConsent['status'] {
  switch (state) {
    case 'subscribed':
      return 'subscribed';
    case 'unsubscribed':
    case 'redacted':
      return 'unsubscribed';
    case 'invalid':
      return 'bounced';
    default:
      return 'not-subscribed';
  }
}

/**
 * Consent per channel with its evidence (R27): the newest observation (by the consent's own time)
 * among the customer stream and the cart's checkout.
 */
export function consentOf(
  customer: CustomerState | undefined,
  cart: CartState | undefined,
): { email?: ChannelConsent; sms?: ChannelConsent } {
  const out: { email?: ChannelConsent; sms?: ChannelConsent } = {};
  for (const channel of ['email', 'sms'] as const) {
    const candidates: RecordedConsent[] = [];
    const fromCustomer = customer?.status === 'known' ? customer.consent[channel] : undefined;
    if (fromCustomer) candidates.push(fromCustomer);
    const fromCart = channel === 'email' ? cart?.snapshot?.emailConsent : cart?.snapshot?.smsConsent;
    if (fromCart) candidates.push(fromCart);
    const latest = candidates.sort((a, b) => Date.parse(b.consentUpdatedAt) - Date.parse(a.consentUpdatedAt))[0];
    if (latest) out[channel] = { status: statusOf(latest.state), source: latest.source, at: latest.consentUpdatedAt };
  }
  return out;
}

/** The sealed contact to use: the cart's (what the shopper typed), else the customer profile's. */
export function contactOf(cart: CartState | undefined, customer: CustomerState | undefined): SealedValue | undefined {
  return cart?.contact ?? (customer?.status === 'known' ? customer.contact : undefined);
}

export interface CustomerHistoryFacts {
  readonly customerLastOrderAt?: string;
  readonly lastOtherRecoveryMessageAt?: string;
  readonly otherActiveRecovery?: { readonly recoveryId: string; readonly startedAt: string };
  /** Messages of other recoveries ignored since the last engagement (segmentation input). */
  readonly ignoredRecoveryMessages: number;
  /** The customer's latest recovery messages with their engagement, and last order: the fatigue rule's input. */
  readonly engagement: EngagementHistory;
  readonly lastDiscountRecoveryAt?: string;
  /** The IANA zone of the customer's latest order that had one (from its address). */
  readonly lastOrderTimeZone?: string;
}

const isoOrUndefined = (d: Date | null | undefined): string | undefined => (d ? d.toISOString() : undefined);

/**
 * Opens recorded this soon after the send are taken for a machine's (Apple Mail Privacy Protection
 * and similar proxies fetch every image when the message is delivered), not the shopper's: they do
 * not count as engagement for fatigue. The default of the per-shop `fatigue` setting.
 */
export const MACHINE_OPEN_WITHIN_SECONDS = defaultRecoveryConfig.fatigue.machineOpenWithinMs / 1000;

/** The latest messages of a customer the fatigue rule looks at (its window is at most a year). */
export const ENGAGEMENT_MESSAGES_LIMIT = 200;

/**
 * Frequency-cap, fatigue, anti-gaming and purchase facts from the engine's index tables.
 *
 * Fatigue: the customer's latest recovery messages (any recovery) with their first open, click and
 * reply, and their last order; the domain's `assessFatigue` decides what counts (see there).
 */
export async function customerHistoryFacts(
  q: Queryable,
  shopId: string,
  customerKey: string | undefined,
  recoveryId: string,
): Promise<CustomerHistoryFacts> {
  if (customerKey === undefined) return { ignoredRecoveryMessages: 0, engagement: { messages: [] } };
  const [{ rows }, messages] = await Promise.all([
    q.query<{
      last_order: Date | null;
      last_other_message: Date | null;
      other_id: string | null;
      other_started: Date | null;
      last_discount_recovery: Date | null;
      last_order_zone: string | null;
    }>(
      `SELECT
       (SELECT max(placed_at) FROM engine.customer_orders WHERE shop_id = $1 AND customer_key = $2) AS last_order,
       (SELECT max(sent_at) FROM engine.sent_messages
         WHERE shop_id = $1 AND customer_key = $2 AND recovery_id <> $3) AS last_other_message,
       o.recovery_id AS other_id, o.started_at AS other_started,
       (SELECT max(cr.ended_at) FROM engine.customer_recoveries cr
         WHERE cr.shop_id = $1 AND cr.customer_key = $2 AND cr.recovery_id <> $3 AND cr.end_reason = 'purchased'
           AND EXISTS (SELECT 1 FROM engine.sent_messages m
             WHERE m.recovery_id = cr.recovery_id AND m.discount_code IS NOT NULL)) AS last_discount_recovery,
       (SELECT time_zone FROM engine.customer_orders
         WHERE shop_id = $1 AND customer_key = $2 AND time_zone IS NOT NULL
         ORDER BY placed_at DESC LIMIT 1) AS last_order_zone
     FROM (SELECT 1) one
     LEFT JOIN LATERAL (
       SELECT recovery_id, started_at FROM engine.customer_recoveries
       WHERE shop_id = $1 AND customer_key = $2 AND recovery_id <> $3 AND status = 'active' AND started_at IS NOT NULL
       ORDER BY started_at, recovery_id LIMIT 1) o ON true`,
      [shopId, customerKey, recoveryId],
    ),
    q.query<{
      recovery_id: string;
      step: number;
      channel: Channel;
      sent_at: Date;
      opened_at: Date | null;
      clicked_at: Date | null;
      replied_at: Date | null;
    }>(
      `SELECT recovery_id, step, channel, sent_at, opened_at, clicked_at, replied_at FROM engine.sent_messages
       WHERE shop_id = $1 AND customer_key = $2 ORDER BY sent_at DESC LIMIT ${ENGAGEMENT_MESSAGES_LIMIT}`,
      [shopId, customerKey],
    ),
  ]);
  const r = rows[0];
  const lastOrder = isoOrUndefined(r.last_order);
  const lastOther = isoOrUndefined(r.last_other_message);
  const lastDiscount = isoOrUndefined(r.last_discount_recovery);
  const engagement: EngagementHistory = {
    messages: messages.rows.map((m) => ({
      recoveryId: m.recovery_id,
      step: m.step,
      channel: m.channel,
      sentAt: m.sent_at.toISOString(),
      ...(m.opened_at !== null ? { openedAt: m.opened_at.toISOString() } : {}),
      ...(m.clicked_at !== null ? { clickedAt: m.clicked_at.toISOString() } : {}),
      ...(m.replied_at !== null ? { repliedAt: m.replied_at.toISOString() } : {}),
    })),
    ...(lastOrder !== undefined ? { lastOrderAt: lastOrder } : {}),
  };
  return {
    ...(lastOrder !== undefined ? { customerLastOrderAt: lastOrder } : {}),
    ...(lastOther !== undefined ? { lastOtherRecoveryMessageAt: lastOther } : {}),
    ...(r.other_id !== null && r.other_started !== null
      ? { otherActiveRecovery: { recoveryId: r.other_id, startedAt: r.other_started.toISOString() } }
      : {}),
    ignoredRecoveryMessages: ignoredOtherRecoveryMessages(
      engagement,
      recoveryId,
      defaultRecoveryConfig.fatigue.machineOpenWithinMs,
    ),
    engagement,
    ...(lastDiscount !== undefined ? { lastDiscountRecoveryAt: lastDiscount } : {}),
    ...(r.last_order_zone !== null ? { lastOrderTimeZone: r.last_order_zone } : {}),
  };
}

/** Who a recovery start is for: the features and context are read for it. */
export interface StartRequest {
  readonly shopId: string;
  readonly recoveryId: string;
  readonly customerKey?: string;
  /** The cart's store products: their recorded categories (the category cache) go with the context. */
  readonly productIds?: readonly string[];
}

const NO_FEATURES: CustomerFeatures = {
  ordersCount: 0,
  totalSpent: '0',
  previousAbandonments: 0,
  previousRecoveries: 0,
  discountOrdersCount: 0,
  categoriesBought: [],
};

/** How far back the shop's and the segments' response rates are learned from (RFC 0013). */
export const LEARNING_WINDOW_DAYS = 180;

/**
 * What the engine learned from recorded outcomes (RFC 0013): the shop's tally of recovery messages
 * engaged with, and the tally per channel of the recoveries of `segment`, over the last
 * {@link LEARNING_WINDOW_DAYS} before `now`. Engaged: a click, a reply, an open later than
 * `machineOpenWithinSeconds` after the send, or the recovery ended purchased after the message.
 */
export async function learnedEvidence(
  q: Queryable,
  shopId: string,
  segment: string,
  now: Date,
  machineOpenWithinSeconds: number,
): Promise<ChannelEvidence> {
  const { rows } = await q.query<{ channel: Channel; segment: string | null; sent: number; engaged: number }>(
    `SELECT m.channel, cr.response_segment AS segment, count(*)::int AS sent,
       count(*) FILTER (WHERE m.clicked_at IS NOT NULL OR m.replied_at IS NOT NULL
         OR m.opened_at > m.sent_at + make_interval(secs => $4)
         OR (cr.end_reason = 'purchased' AND cr.ended_at > m.sent_at))::int AS engaged
     FROM engine.sent_messages m
     LEFT JOIN engine.customer_recoveries cr
       ON cr.shop_id = m.shop_id AND cr.customer_key = m.customer_key AND cr.recovery_id = m.recovery_id
     WHERE m.shop_id = $1 AND m.sent_at > $2::timestamptz - make_interval(days => $3) AND m.sent_at <= $2
     GROUP BY m.channel, cr.response_segment`,
    [shopId, now.toISOString(), LEARNING_WINDOW_DAYS, machineOpenWithinSeconds],
  );
  let shop: Tally = { engaged: 0, sent: 0 };
  const byChannel: Partial<Record<Channel, Tally>> = {};
  for (const r of rows) {
    shop = { engaged: shop.engaged + r.engaged, sent: shop.sent + r.sent };
    if (r.segment !== segment) continue;
    const before = byChannel[r.channel] ?? { engaged: 0, sent: 0 };
    byChannel[r.channel] = { engaged: before.engaged + r.engaged, sent: before.sent + r.sent };
  }
  return { segment, shop, byChannel };
}

/** Segmentation inputs of a customer: the customer stream plus the engine's order and recovery index. */
export async function customerFeatures(
  q: Queryable,
  store: EventStore,
  shopId: string,
  customerKey: string | undefined,
  recoveryId: string,
): Promise<CustomerFeatures> {
  return (await customerFeaturesOf(q, store, [{ shopId, customerKey, recoveryId }]))[0];
}

/**
 * {@link customerFeatures} of many recoveries with a constant number of round trips: the customer
 * streams in one read, the order and recovery index in one query, the customers' latest messages
 * (the ignored-messages count) in one query. Results in the order of `requests`.
 */
export async function customerFeaturesOf(
  q: Queryable,
  store: EventStore,
  requests: readonly Pick<StartRequest, 'shopId' | 'customerKey' | 'recoveryId'>[],
): Promise<CustomerFeatures[]> {
  const known = requests.filter((r): r is typeof r & { customerKey: string } => r.customerKey !== undefined);
  if (known.length === 0) return requests.map(() => NO_FEATURES);
  const pairKey = (shopId: string, customerKey: string) => `${shopId}\u0000${customerKey}`;
  const pairs = [...new Map(known.map((r) => [pairKey(r.shopId, r.customerKey), r])).values()];
  // The store's read runs beside the two statements; the statements go one after the other on `q`,
  // which may be one transaction's connection (pg deprecates overlapping queries on a client).
  const streamsRead = readStreams(
    store,
    pairs.map((r) => customerStream(r.shopId, r.customerKey)),
  );
  const indexed = async () => {
    const counts = await q.query<{
      orders: number;
      discounted: number;
      last_purchase: Date | null;
      categories: string[] | null;
      abandonments: number;
      recovered: number;
    }>(
      `SELECT
         (SELECT count(*)::int FROM engine.customer_orders WHERE shop_id = i.shop_id AND customer_key = i.customer_key) AS orders,
         (SELECT count(*)::int FROM engine.customer_orders
           WHERE shop_id = i.shop_id AND customer_key = i.customer_key AND discounted) AS discounted,
         (SELECT max(placed_at) FROM engine.customer_orders
           WHERE shop_id = i.shop_id AND customer_key = i.customer_key) AS last_purchase,
         (SELECT array_agg(DISTINCT c ORDER BY c) FROM (
            SELECT unnest(o.categories) AS c FROM engine.customer_orders o
             WHERE o.shop_id = i.shop_id AND o.customer_key = i.customer_key
            UNION
            SELECT unnest(pc.categories) FROM engine.customer_orders o
              JOIN engine.product_categories pc
                ON pc.shop_id = o.shop_id AND pc.product_id = ANY(o.product_ids) AND pc.found
             WHERE o.shop_id = i.shop_id AND o.customer_key = i.customer_key) bought) AS categories,
         (SELECT count(*)::int FROM engine.customer_recoveries
           WHERE shop_id = i.shop_id AND customer_key = i.customer_key AND recovery_id <> i.recovery_id
             AND started_at IS NOT NULL) AS abandonments,
         (SELECT count(*)::int FROM engine.customer_recoveries
           WHERE shop_id = i.shop_id AND customer_key = i.customer_key AND recovery_id <> i.recovery_id
             AND end_reason = 'purchased') AS recovered
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(shop_id, customer_key, recovery_id, n)
       ORDER BY i.n`,
      [known.map((r) => r.shopId), known.map((r) => r.customerKey), known.map((r) => r.recoveryId)],
    );
    const sent = await q.query<{
      n: string;
      recovery_id: string;
      step: number;
      channel: Channel;
      sent_at: Date;
      opened_at: Date | null;
      clicked_at: Date | null;
      replied_at: Date | null;
    }>(
      `SELECT i.n, m.recovery_id, m.step, m.channel, m.sent_at, m.opened_at, m.clicked_at, m.replied_at
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(shop_id, customer_key, n)
       CROSS JOIN LATERAL (
         SELECT recovery_id, step, channel, sent_at, opened_at, clicked_at, replied_at FROM engine.sent_messages
         WHERE shop_id = i.shop_id AND customer_key = i.customer_key
         ORDER BY sent_at DESC LIMIT ${ENGAGEMENT_MESSAGES_LIMIT}) m
       ORDER BY i.n, m.sent_at DESC`,
      [pairs.map((r) => r.shopId), pairs.map((r) => r.customerKey)],
    );
    return [counts, sent] as const;
  };
  const [streams, [{ rows }, messages]] = await Promise.all([streamsRead, indexed()]);
  const sentBy = new Map<string, EngagementHistory['messages'][number][]>();
  for (const m of messages.rows) {
    const pair = pairs[Number(m.n) - 1];
    const key = pairKey(pair.shopId, pair.customerKey);
    let list = sentBy.get(key);
    if (list === undefined) sentBy.set(key, (list = []));
    list.push({
      recoveryId: m.recovery_id,
      step: m.step,
      channel: m.channel,
      sentAt: m.sent_at.toISOString(),
      ...(m.opened_at !== null ? { openedAt: m.opened_at.toISOString() } : {}),
      ...(m.clicked_at !== null ? { clickedAt: m.clicked_at.toISOString() } : {}),
      ...(m.replied_at !== null ? { repliedAt: m.replied_at.toISOString() } : {}),
    });
  }
  const byRequest = new Map(known.map((r, i) => [r, rows[i]]));
  return requests.map((req) => {
    const r = byRequest.get(req as (typeof known)[number]);
    if (req.customerKey === undefined || r === undefined) return NO_FEATURES;
    const customer = foldEvents(
      customerDecider,
      (streams.get(customerStream(req.shopId, req.customerKey)) ?? []).map((x) =>
        upcastEvent<CustomerEvent>({ type: x.type, schemaVersion: x.schemaVersion, data: x.data }),
      ),
    );
    const isKnown = customer.status === 'known';
    const lastPurchase = isoOrUndefined(r.last_purchase);
    const ignored = ignoredOtherRecoveryMessages(
      { messages: sentBy.get(pairKey(req.shopId, req.customerKey)) ?? [] },
      req.recoveryId,
      defaultRecoveryConfig.fatigue.machineOpenWithinMs,
    );
    return {
      ordersCount: Math.max(isKnown ? (customer.ordersCount ?? 0) : 0, r.orders),
      totalSpent: isKnown && customer.totalSpent !== undefined ? customer.totalSpent : '0',
      ...(lastPurchase !== undefined ? { lastPurchaseAt: lastPurchase } : {}),
      previousAbandonments: r.abandonments,
      previousRecoveries: r.recovered,
      discountOrdersCount: r.discounted,
      categoriesBought: r.categories ?? [],
      ignoredRecoveryMessages: ignored,
    };
  });
}

/** A uniform random number in [0, 1) from the OS generator (holdout and rollout draws). */
export function cryptoRandom(): number {
  return randomInt(0, 2 ** 48 - 1) / 2 ** 48;
}

export interface StartContextDeps {
  readonly store: EventStore;
  readonly shops: ShopLookup;
  readonly sequences: SequenceRepository;
  /** Default {@link cryptoRandom}. */
  readonly random?: () => number;
  /** The send-time arm's own draw (RFC 0012); default {@link cryptoRandom}, independent of `random`. */
  readonly sendTimeRandom?: () => number;
  /** The policy control arm's own draw (RFC 0021); default {@link cryptoRandom}, independent of the others. */
  readonly policyRandom?: () => number;
  /** The shops' live recovery-score models (../learning/live-models.ts); no score is recorded without. */
  readonly scoring?: ScoringSource;
  /** The shops' experiments of step variants (./experiments.ts, RFC 0016); read when a catalogue has variants. */
  readonly experiments?: { forShop(shopId: string): Promise<Record<string, ExperimentSnapshot>> };
  /** The seed of a recovery's variant draws; default a random 31-bit integer. */
  readonly experimentSeed?: () => number;
}

/** What a recovery needs when it starts: customer features, the shop's current sequences, a draw, the shop's zone. */
export async function buildStartContext(
  deps: StartContextDeps,
  q: Queryable,
  shopId: string,
  recoveryId: string,
  customerKey: string | undefined,
  /** The cart's store products: their recorded categories (the category cache) go with the context. */
  productIds: readonly string[] = [],
): Promise<StartContext> {
  return (await buildStartContexts(deps, q, [{ shopId, recoveryId, customerKey, productIds }]))[0];
}

/**
 * {@link buildStartContext} of many recoveries with a constant number of round trips whatever
 * their number: the customer features of all of them ({@link customerFeaturesOf}), the shops'
 * catalogues and time zones (cached where the repository and the shop look-up cache them, else one
 * read per shop), the recorded categories of all their products in one query. One draw per request,
 * in the order of `requests`.
 */
export async function buildStartContexts(
  deps: StartContextDeps,
  q: Queryable,
  requests: readonly StartRequest[],
): Promise<StartContext[]> {
  if (requests.length === 0) return [];
  const shopIds = [...new Set(requests.map((r) => r.shopId))];
  // Statements on `q` (maybe one transaction's connection) run one after the other; the catalogue,
  // zone and model look-ups (caches or their own pools) run beside them.
  const onQ = async () => {
    const features = await customerFeaturesOf(q, deps.store, requests);
    const categories = await productCategoryCache.categoriesOfMany(
      q,
      requests.map((r) => ({ shopId: r.shopId, productIds: r.productIds ?? [] })),
    );
    return [features, categories] as const;
  };
  const [[customers, productCategories], sequences, zones, scorings] = await Promise.all([
    onQ(),
    currentCatalogues(deps.sequences, shopIds),
    shopTimeZones(deps.shops, shopIds),
    scoringOf(deps.scoring, shopIds),
  ]);
  const experiments = await experimentsOf(deps, sequences);
  return requests.map((r, i) => {
    const categories = productCategories[i];
    return {
      customer: customers[i],
      sequences: sequences.get(r.shopId)!,
      random: (deps.random ?? cryptoRandom)(),
      sendTimeRandom: (deps.sendTimeRandom ?? cryptoRandom)(),
      policyRandom: (deps.policyRandom ?? cryptoRandom)(),
      shopTimeZone: zones.get(r.shopId) ?? 'UTC',
      ...(Object.keys(categories).length > 0 ? { productCategories: categories } : {}),
      ...(scorings.has(r.shopId) ? { scoring: scorings.get(r.shopId)! } : {}),
      ...(experiments.has(r.shopId)
        ? { experiments: { seed: (deps.experimentSeed ?? experimentSeed)(), experiments: experiments.get(r.shopId)! } }
        : {}),
    };
  });
}

/** The experiments of the shops whose catalogue has a step with variants (one cached read per shop). */
async function experimentsOf(
  deps: StartContextDeps,
  catalogues: Map<string, SequenceCatalogue>,
): Promise<Map<string, Record<string, ExperimentSnapshot>>> {
  const withVariants = [...catalogues].filter(([, c]) =>
    c.sequences.some((s) => s.steps.some((st) => (st.variants ?? []).length > 0)),
  );
  if (withVariants.length === 0) return new Map();
  const source = deps.experiments;
  return new Map(
    await Promise.all(
      withVariants.map(async ([shopId]) => [shopId, source ? await source.forShop(shopId) : {}] as const),
    ),
  );
}

/** The shops' live recovery-score models (one cache look-up per shop); none without a source. */
async function scoringOf(
  source: ScoringSource | undefined,
  shopIds: readonly string[],
): Promise<Map<string, ScoringContext>> {
  if (source === undefined) return new Map();
  return new Map(await Promise.all(shopIds.map(async (id) => [id, await source.forShop(id)] as const)));
}

async function currentCatalogues(
  sequences: SequenceRepository,
  shopIds: readonly string[],
): Promise<Map<string, SequenceCatalogue>> {
  if (sequences.currentMany) return sequences.currentMany(shopIds);
  return new Map(await Promise.all(shopIds.map(async (id) => [id, await sequences.current(id)] as const)));
}

/** Shop time zones through the registry's cached look-up when it has one (no secret opened). */
export async function shopTimeZones(shops: ShopLookup, shopIds: readonly string[]): Promise<Map<string, string>> {
  if (shops.timeZones) return shops.timeZones(shopIds);
  const found = await Promise.all(shopIds.map(async (id) => [id, (await shops.get(id))?.timezone] as const));
  return new Map(found.filter((f): f is readonly [string, string] => f[1] !== undefined));
}

/**
 * The learned discount policy's evidence (RFC 0017): per level, the recoveries of the shop's
 * `segment` assigned to it whose outcome is final by the shared reward rule (`rewardStatus`):
 * recovered = bought within the attribution window of the choice; final = recovered, ended, or the
 * window closed. Pending outcomes count nowhere. Recoveries that played the ladder (`fixed`, or the
 * learned policy's `ladder` arm: each step its own percent) are evidence of no single level and
 * count nowhere either. Read from `engine.incentive_assignments`.
 */
export async function incentiveEvidence(
  q: Queryable,
  shopId: string,
  segment: string,
  now: Date,
  attributionWindowMs: number,
): Promise<IncentiveEvidence> {
  const found = await incentiveEvidenceBySegment(q, shopId, now, attributionWindowMs, segment);
  return found.get(segment) ?? { segment, levels: [] };
}

/**
 * {@link incentiveEvidence} of every segment of the shop (or of `segment` only) in one query, keyed
 * by segment; a segment without final outcomes is absent.
 */
export async function incentiveEvidenceBySegment(
  q: Queryable,
  shopId: string,
  now: Date,
  attributionWindowMs: number,
  segment?: string,
): Promise<Map<string, IncentiveEvidence>> {
  const { rows } = await q.query<{ segment: string; percent: number; assigned: number; recovered: number }>(
    `SELECT segment, percent,
            count(*)::int AS assigned,
            count(*) FILTER (WHERE end_reason = 'purchased'
                               AND ended_at <= decided_at + $3 * interval '1 millisecond')::int AS recovered
       FROM engine.incentive_assignments
      WHERE shop_id = $1 AND ($4::text IS NULL OR segment = $4) AND mode NOT IN ('fixed', 'ladder')
        AND (ended_at IS NOT NULL OR decided_at + $3 * interval '1 millisecond' < $2)
      GROUP BY segment, percent ORDER BY segment, percent`,
    [shopId, now, attributionWindowMs, segment ?? null],
  );
  const levels = new Map<string, { percent: number; assigned: number; recovered: number }[]>();
  for (const r of rows) {
    let list = levels.get(r.segment);
    if (list === undefined) levels.set(r.segment, (list = []));
    list.push({ percent: r.percent, assigned: r.assigned, recovered: r.recovered });
  }
  return new Map([...levels].map(([seg, list]) => [seg, { segment: seg, levels: list }]));
}

/**
 * The customer's code purchases (orders whose codes include one a recovery message sent them) and
 * order times since `since`: the code-farming rule's input (RFC 0017).
 */
export async function codeFarmingHistory(
  q: Queryable,
  shopId: string,
  customerKey: string,
  since: Date,
): Promise<CodeFarmingHistory> {
  const [purchases, orders] = await Promise.all([
    q.query<{ recovery_id: string; order_id: string; code: string; placed_at: Date }>(
      `SELECT DISTINCT ON (o.order_id) m.recovery_id, o.order_id, m.discount_code AS code, o.placed_at
         FROM engine.customer_orders o
         JOIN engine.sent_messages m
           ON m.shop_id = o.shop_id AND m.customer_key = o.customer_key AND m.discount_code IS NOT NULL
          AND upper(m.discount_code) = ANY (o.discount_codes) AND m.sent_at <= o.placed_at
        WHERE o.shop_id = $1 AND o.customer_key = $2 AND o.placed_at >= $3
        ORDER BY o.order_id, m.sent_at DESC`,
      [shopId, customerKey, since],
    ),
    q.query<{ placed_at: Date }>(
      `SELECT placed_at FROM engine.customer_orders WHERE shop_id = $1 AND customer_key = $2 AND placed_at >= $3`,
      [shopId, customerKey, since],
    ),
  ]);
  return {
    codePurchases: purchases.rows.map((r) => ({
      recoveryId: r.recovery_id,
      orderId: r.order_id,
      code: r.code,
      placedAt: r.placed_at.toISOString(),
    })),
    orderTimes: orders.rows.map((r) => r.placed_at.toISOString()),
  };
}

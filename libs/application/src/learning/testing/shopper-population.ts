/**
 * The shopper simulator's population for judging the recovery score: abandoned carts in the exact
 * vector a recovery records (`RecoveryFeatures`, schema 1), in abandonment order, each with the
 * **true** probability that the shopper buys within the label window, and the outcome drawn from
 * it. Because the truth is known, a trained model can be compared with it on the same rows: its
 * AUC against the AUC of the true probabilities (the best any model can rank), its calibration, and
 * the mean |p̂ − p_true|.
 *
 * Who abandons (per cart, independently): a new customer (55 %), a returning one (35 %) or a VIP
 * (10 %) with a matching order history (orders, spend, days since the last order, earlier
 * abandonments and recoveries, orders with a discount, recovery messages ignored in a row); a cart
 * of 1–8 items from five categories with log-normal prices; a device, a traffic source, a checkout
 * stage, a local hour drawn from a day-shaped curve and a weekday; the shop's currency.
 *
 * The true probability {@link truePurchaseProbability} is σ(z) of the recorded features, with
 * effects a merchant would recognise and, on purpose, several that the engine's linear model
 * cannot represent exactly (a log of the cart value and of the order count, an exponential decay
 * in the days since the last order, a capped count, evening/night hours on a numeric hour) so that
 * the figures measure a realistic misfit, not a model fitted to its own family:
 *
 *   z = −1.95
 *       − 0.35·ln(cart_value / 80)               dearer carts are bought less often
 *       + 0.05·(item_count − 2)
 *       + 0.15 when the categories include outdoor
 *       + 0.55·ln(1 + orders_count)               history matters, with diminishing returns
 *       + 0.8·e^(−days_since_last_purchase / 30)  a recent buyer comes back (0 for a new customer)
 *       + 0.4·discount_orders / orders_count      discount hunters wait for the code
 *       − 0.15·min(previous_abandonments, 6)
 *       + 0.35·min(previous_recoveries, 4)
 *       − 0.25·min(ignored_recovery_messages, 5)  (unknown: 0)
 *       + device      mobile −0.35, tablet −0.15, desktop 0
 *       + source      email +0.6, direct +0.3, search 0, paid −0.2, social −0.4, unknown −0.1
 *       + stage       payment +0.9, shipping +0.5, contact +0.2, none 0
 *       + hour        18–22 h +0.25, 0–5 h −0.3, otherwise (or unknown) 0
 *       + 0.1 on Saturday and Sunday
 *
 * The currency has no effect (a column a model should learn to ignore). The population is
 * stationary (no drift over time): an earlier and a later part differ by chance only. About one
 * cart in four is bought.
 */
import { RECOVERY_FEATURES_SCHEMA, type RecoveryFeatures } from '@reclaim/domain';
import { seededRandom, sigmoid, type Random } from '@reclaim/learning';

export interface SimulatedRecovery {
  /** `sim-<seed>-<i>`. */
  readonly recoveryId: string;
  readonly abandonedAt: string;
  readonly featureSchema: number;
  readonly features: RecoveryFeatures;
  /** P(purchase within the label window | features): what the outcome was drawn with. */
  readonly trueProbability: number;
  readonly purchased: 0 | 1;
}

export interface PopulationOptions {
  /** Abandonment of the first cart (default 2026-01-01T00:00:00Z). */
  readonly start?: Date;
  /** Mean time between two abandonments (default 60 s); the gaps are exponential. */
  readonly meanGapMs?: number;
  /**
   * Added to the log-odds of {@link truePurchaseProbability}: a shop whose customers differ from
   * the documented population (another base rate, device or channel effects), for judging a model
   * that borrows from other shops. Default none.
   */
  readonly shopEffect?: (features: RecoveryFeatures) => number;
}

const CATEGORIES = ['apparel', 'home', 'kitchen', 'lighting', 'outdoor'] as const;

function normal(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** 0, 1, 2, … with P(k) = (1 − q)·q^k (mean q / (1 − q)). */
function geometric(random: Random, mean: number): number {
  const q = mean / (1 + mean);
  return Math.floor(Math.log(Math.max(random(), 1e-12)) / Math.log(q));
}

function poisson(random: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

function pick<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  let u = random();
  for (const [value, weight] of choices) {
    if (u < weight) return value;
    u -= weight;
  }
  return choices[choices.length - 1][0];
}

/** Local hour of an abandonment: few at night, a lunch bump and an evening peak. */
const HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 5, 5, 5, 6, 7, 8, 9, 8, 6, 4];
const HOUR_TOTAL = HOUR_WEIGHTS.reduce((s, w) => s + w, 0);
const HOURS = HOUR_WEIGHTS.map((w, h) => [h, w / HOUR_TOTAL] as const);

/** The documented true probability of purchase (see the module comment). */
export function truePurchaseProbability(f: RecoveryFeatures): number {
  const value = Math.max(Number(f.cart_value), 1);
  let z = -1.95;
  z += -0.35 * Math.log(value / 80);
  z += 0.05 * (f.item_count - 2);
  if (f.categories.split('|').includes('outdoor')) z += 0.15;
  z += 0.55 * Math.log1p(f.orders_count);
  if (f.days_since_last_purchase !== null) z += 0.8 * Math.exp(-f.days_since_last_purchase / 30);
  if (f.orders_count > 0) z += (0.4 * f.discount_orders) / f.orders_count;
  z -= 0.15 * Math.min(f.previous_abandonments, 6);
  z += 0.35 * Math.min(f.previous_recoveries, 4);
  z -= 0.25 * Math.min(f.ignored_recovery_messages ?? 0, 5);
  z += f.device === 'mobile' ? -0.35 : f.device === 'tablet' ? -0.15 : 0;
  z +=
    f.traffic_source === 'email'
      ? 0.6
      : f.traffic_source === 'direct'
        ? 0.3
        : f.traffic_source === 'paid'
          ? -0.2
          : f.traffic_source === 'social'
            ? -0.4
            : f.traffic_source === null
              ? -0.1
              : 0;
  z +=
    f.checkout_stage === 'payment'
      ? 0.9
      : f.checkout_stage === 'shipping'
        ? 0.5
        : f.checkout_stage === 'contact'
          ? 0.2
          : 0;
  if (f.local_hour !== null) z += f.local_hour >= 18 && f.local_hour <= 22 ? 0.25 : f.local_hour <= 5 ? -0.3 : 0;
  if (f.local_weekday === 0 || f.local_weekday === 6) z += 0.1;
  return sigmoid(z);
}

function customerAndCart(random: Random, abandonedMs: number): RecoveryFeatures {
  const kind = pick(random, [
    ['new', 0.55],
    ['returning', 0.35],
    ['vip', 0.1],
  ] as const);
  const orders = kind === 'new' ? 0 : kind === 'returning' ? 1 + geometric(random, 1.5) : 5 + geometric(random, 6);
  let spent = 0;
  for (let i = 0; i < orders; i++) spent += Math.exp(4.2 + 0.6 * normal(random));
  const days = orders === 0 ? null : Math.floor(-Math.log(Math.max(random(), 1e-12)) * (kind === 'vip' ? 25 : 90));
  const previousAbandonments = poisson(random, kind === 'new' ? 0.3 : kind === 'returning' ? 1.2 : 2);
  let previousRecoveries = 0;
  for (let i = 0; i < previousAbandonments; i++) if (random() < 0.25) previousRecoveries++;
  let discountOrders = 0;
  for (let i = 0; i < orders; i++) if (random() < 0.2) discountOrders++;
  const ignored =
    previousAbandonments === 0 ? (random() < 0.5 ? null : 0) : Math.min(poisson(random, 0.8), previousAbandonments * 3);

  const items = 1 + Math.min(geometric(random, 0.9), 7);
  const categories = new Set<string>();
  let value = 0;
  for (let i = 0; i < items; i++) {
    categories.add(CATEGORIES[Math.floor(random() * CATEGORIES.length)]);
    value += Math.exp(3.6 + 0.8 * normal(random));
  }
  const hourKnown = random() >= 0.03;
  const local = new Date(abandonedMs);
  return {
    cart_value: value.toFixed(2),
    currency: pick(random, [
      ['USD', 0.8],
      ['EUR', 0.15],
      ['GBP', 0.05],
    ] as const),
    item_count: items,
    categories: [...categories].sort().join('|'),
    category_count: categories.size,
    returning: orders > 0,
    orders_count: orders,
    total_spent: spent.toFixed(2),
    days_since_last_purchase: days,
    previous_abandonments: previousAbandonments,
    previous_recoveries: previousRecoveries,
    discount_orders: discountOrders,
    device: pick(random, [
      ['mobile', 0.55],
      ['desktop', 0.38],
      ['tablet', 0.07],
    ] as const),
    traffic_source: pick(random, [
      ['search', 0.35],
      ['direct', 0.2],
      ['social', 0.18],
      ['email', 0.12],
      ['paid', 0.05],
      [null, 0.1],
    ] as const),
    local_hour: hourKnown ? pick(random, HOURS) : null,
    local_weekday: hourKnown ? local.getUTCDay() : null,
    checkout_stage: pick(random, [
      [null, 0.3],
      ['contact', 0.3],
      ['shipping', 0.25],
      ['payment', 0.15],
    ] as const),
    ignored_recovery_messages: ignored,
  };
}

/** `size` recoveries in abandonment order, the same for the same seed. */
export function* shopperPopulation(
  size: number,
  seed: number,
  options: PopulationOptions = {},
): Generator<SimulatedRecovery> {
  const random = seededRandom(seed);
  const gap = options.meanGapMs ?? 60_000;
  let at = (options.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  for (let i = 0; i < size; i++) {
    at += Math.max(1, Math.round(-Math.log(Math.max(random(), 1e-12)) * gap));
    const features = customerAndCart(random, at);
    const base = truePurchaseProbability(features);
    const trueProbability =
      options.shopEffect === undefined
        ? base
        : sigmoid(Math.log(base / (1 - base)) + options.shopEffect(features));
    yield {
      recoveryId: `sim-${seed}-${i}`,
      abandonedAt: new Date(at).toISOString(),
      featureSchema: RECOVERY_FEATURES_SCHEMA,
      features,
      trueProbability,
      purchased: random() < trueProbability ? 1 : 0,
    };
  }
}

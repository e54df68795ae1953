/**
 * Test kit: a real recovery log for the recovery score — carts abandoned through the real process
 * manager (activity, then the abandonment timer with a start context), and orders as the log holds
 * them (`order.placed`), drawn from a known purchase probability per cart.
 */
import { randomUUID } from 'node:crypto';
import {
  createRecoveryDecider,
  defaultRecoveryConfig,
  defaultSequences,
  recoveryIdFor,
  type CustomerFeatures,
  type RecoveryDecider,
  type ScoringContext,
} from '@reclaim/domain';
import { seededRandom, sigmoid } from '@reclaim/learning';
import type { EventStore } from '@reclaim/event-store';
import { loadRecovery, runRecovery } from '../../recovery/recovery-stream';

export interface SeedOptions {
  readonly shopId: string;
  readonly count: number;
  readonly seed: number;
  /** Abandonment of the first cart; each next one `spacingMs` later. */
  readonly firstAt: Date;
  readonly spacingMs: number;
  /** Orders are placed this long after abandonment (inside the label window). */
  readonly orderAfterMs: number;
  readonly scoring?: ScoringContext;
}

export interface SeededRecovery {
  readonly recoveryId: string;
  readonly cartId: string;
  readonly customerKey: string;
  readonly abandonedAt: string;
  readonly probability: number;
  readonly purchased: boolean;
}

const DEVICES = ['desktop', 'mobile', 'tablet'] as const;
const SOURCES = ['email', 'search', 'social'] as const;

export async function seedRecoveries(store: EventStore, o: SeedOptions, pm: RecoveryDecider = createRecoveryDecider()) {
  const random = seededRandom(o.seed);
  const out: SeededRecovery[] = [];
  for (let i = 0; i < o.count; i++) {
    const cartId = `c${o.seed}-${i}`;
    const customerKey = `k${o.seed}-${i}`;
    const recoveryId = recoveryIdFor(o.shopId, cartId);
    const value = Math.round(Math.exp(4 + 0.8 * (random() * 2 - 1) * 1.7) * 100) / 100;
    const returning = random() < 0.4;
    const device = DEVICES[Math.floor(random() * 3)];
    const source = SOURCES[Math.floor(random() * 3)];
    const z =
      -1.2 +
      1.2 * (Math.log(value) - 4) +
      (returning ? 1.1 : 0) +
      (device === 'mobile' ? -0.6 : 0) +
      (source === 'email' ? 0.8 : source === 'social' ? -0.5 : 0);
    const probability = sigmoid(z);
    const purchased = random() < probability;
    const activityAt = new Date(o.firstAt.getTime() + i * o.spacingMs - defaultRecoveryConfig.abandonAfterMs);
    await runRecovery(
      store,
      pm,
      recoveryId,
      {
        type: 'CartActivity',
        shopId: o.shopId,
        cartId,
        at: activityAt.toISOString(),
        cart: {
          value: value.toFixed(2),
          currency: 'USD',
          items: [{ lineId: 'l1', productId: 'p1', quantity: 1, unitPrice: value.toFixed(2) }],
          reach: { email: true, sms: false },
          customerKey,
          device,
          trafficSource: source,
        },
      },
      `seed:${cartId}:activity`,
      o.shopId,
    );
    const { state } = await loadRecovery(store, recoveryId);
    const timer = state.timer;
    if (timer === undefined) throw new Error('no abandonment timer');
    const customer: CustomerFeatures = {
      ordersCount: returning ? 2 : 0,
      totalSpent: returning ? '150.00' : '0',
      ...(returning ? { lastPurchaseAt: new Date(activityAt.getTime() - 40 * 86_400_000).toISOString() } : {}),
      previousAbandonments: 0,
      previousRecoveries: 0,
      discountOrdersCount: 0,
      categoriesBought: [],
    };
    await runRecovery(
      store,
      pm,
      recoveryId,
      {
        type: 'TimerFired',
        timerId: timer.timerId,
        dueAt: timer.dueAt,
        now: timer.dueAt,
        start: {
          customer,
          sequences: defaultSequences(defaultRecoveryConfig),
          random: 0.5,
          shopTimeZone: 'UTC',
          ...(o.scoring !== undefined ? { scoring: o.scoring } : {}),
        },
      },
      `seed:${cartId}:abandoned`,
      o.shopId,
    );
    const abandonedAt = timer.dueAt;
    if (purchased)
      await placeOrder(store, o.shopId, customerKey, [], new Date(Date.parse(abandonedAt) + o.orderAfterMs));
    out.push({ recoveryId, cartId, customerKey, abandonedAt, probability, purchased });
  }
  return out;
}

/** An `order.placed` as the order stream records it. */
export async function placeOrder(
  store: EventStore,
  shopId: string,
  customerKey: string | undefined,
  cartIds: readonly string[],
  placedAt: Date,
): Promise<void> {
  const orderId = `o-${randomUUID()}`;
  await store.append(
    `order-${shopId}-${orderId}`,
    [
      {
        id: randomUUID(),
        type: 'order.placed',
        schemaVersion: 1,
        data: {
          shopId,
          causationId: randomUUID(),
          receivedAt: placedAt.toISOString(),
          platform: 'shopify',
          platformUpdatedAt: placedAt.toISOString(),
          orderId,
          cartIds: [...cartIds],
          ...(customerKey !== undefined ? { customerKey } : {}),
          reach: { email: true, sms: false },
          currency: 'USD',
          total: '10.00',
          discountCodes: [],
          placedAt: placedAt.toISOString(),
          lineItems: [],
        },
      },
    ],
    'no_stream',
  );
}

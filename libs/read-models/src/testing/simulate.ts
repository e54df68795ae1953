/**
 * A realistic event log for tests and the rebuild benchmark: shoppers abandon carts, the real
 * recovery process manager (libs/domain) decides every step, some shoppers open, click and buy,
 * a holdout share gets nothing. Cart, order and recovery events are appended to their streams as
 * the appliance would (the recovery events are exactly what the decider produced).
 */
import { randomUUID } from 'node:crypto';
import {
  createRecoveryDecider,
  defaultSequences,
  event,
  fromStoredRecoveryEvent,
  EventTypes,
  recoveryConfig,
  recoveryIdFor,
  type CartActivityRecorded,
  type CartPurchased,
  type OrderPlaced,
  type RecoveryEvent,
  type RecoveryInput,
  type RecoveryState,
  type StoredRecoveryEvent,
} from '@reclaim/domain';
import type { EventStore, NewEvent } from '@reclaim/event-store';

/** Deterministic PRNG (mulberry32), so a seed gives the same log. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulationOptions {
  readonly shopId: string;
  readonly carts: number;
  readonly seed?: number;
  /** First abandonment day (UTC); carts spread over `days`. */
  readonly start?: Date;
  readonly days?: number;
  readonly holdoutPercent?: number;
  /** Share (0-100) of the non-holdout recoveries that send live (a staged rollout); 100 by default. */
  readonly rolloutPercent?: number;
  /** The shop runs in shadow mode: nothing is sent. */
  readonly shadowMode?: boolean;
  /**
   * Store `recovery.started` at schema version 1 (no `arm`), as an installation written before the
   * arms were recorded: the reader upcasts it.
   */
  readonly startedV1?: boolean;
  /** Index offset, to simulate several rounds with distinct carts. */
  readonly offset?: number;
  /** Share (0-100) of the live recoveries drawn onto the fixed rules (the policy control arm, RFC 0021); off by default. */
  readonly policyControlPercent?: number;
  /** The carts' currency; USD by default. */
  readonly currency?: string;
}

export interface SimulatedLog {
  readonly streams: Array<{ readonly streamId: string; readonly events: NewEvent[] }>;
  readonly eventCount: number;
}

const HOUR = 3_600_000;

function envelope(e: { type: string; schemaVersion: number; data: unknown }, shopId: string): NewEvent {
  return { id: randomUUID(), type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: { shopId } };
}

export function simulate(o: SimulationOptions): SimulatedLog {
  const rnd = prng(o.seed ?? 1);
  const config = recoveryConfig({
    holdoutPercent: o.holdoutPercent ?? 20,
    rolloutPercent: o.rolloutPercent ?? 100,
    shadowMode: o.shadowMode ?? false,
    abandonAfterMs: HOUR,
    ...(o.policyControlPercent !== undefined ? { policyControl: { percent: o.policyControlPercent } } : {}),
  });
  const currency = o.currency ?? 'USD';
  const pm = createRecoveryDecider(config);
  const sequences = defaultSequences(config);
  const start = (o.start ?? new Date('2026-01-05T00:00:00Z')).getTime();
  const days = o.days ?? 14;
  const streams: SimulatedLog['streams'] = [];
  let eventCount = 0;
  for (let i = o.offset ?? 0; i < (o.offset ?? 0) + o.carts; i++) {
    const cartId = `sim-${i}`;
    const customerKey = `e-sim${i % Math.max(1, Math.floor(o.carts / 2))}`;
    const recoveryId = recoveryIdFor(o.shopId, cartId);
    const at0 = start + Math.floor(rnd() * days * 24) * HOUR + Math.floor(rnd() * HOUR);
    const iso = (t: number) => new Date(t).toISOString();
    const value = (20 + Math.floor(rnd() * 380)).toFixed(2);
    const returning = rnd() < 0.4;
    const cartEvents: NewEvent[] = [];
    const caused = (t: number) => ({ shopId: o.shopId, causationId: randomUUID(), receivedAt: iso(t) });
    const activity = event<CartActivityRecorded>(EventTypes.CartActivityRecorded, {
      ...caused(at0),
      platform: 'shopify',
      platformUpdatedAt: iso(at0),
      cartId,
      source: 'checkout',
      customerKey,
      reach: { email: true, sms: rnd() < 0.3 },
      lineItems: [{ lineId: '1', productId: `p${i % 17}`, quantity: 1, unitPrice: value, title: 'Lamp' }],
      currency,
      subtotal: value,
      total: value,
      device: rnd() < 0.5 ? 'mobile' : 'desktop',
    } as unknown as CartActivityRecorded['data']);
    cartEvents.push(envelope(activity, o.shopId));

    const recovery: StoredRecoveryEvent[] = [];
    let state: RecoveryState = pm.initialState();
    const feed = (input: RecoveryInput): RecoveryEvent[] => {
      const out = pm.decide(input, state);
      for (const e of out) state = pm.evolve(state, e);
      recovery.push(...out);
      return out.map(fromStoredRecoveryEvent);
    };
    feed({
      type: 'CartActivity',
      shopId: o.shopId,
      cartId,
      at: iso(at0),
      cart: {
        value,
        currency,
        items: [{ lineId: '1', productId: `p${i % 17}`, quantity: 1, unitPrice: value, categories: [`c${i % 5}`] }],
        reach: { email: true, sms: false },
        customerKey,
        device: rnd() < 0.5 ? 'mobile' : 'desktop',
        checkoutStage: rnd() < 0.5 ? 'payment' : 'contact',
      },
    });
    const buyProbability = 0.12 + rnd() * 0.2;
    let purchasedAt: number | undefined;
    let orderId: string | undefined;
    let clicked: { step: number; at: number; messageId: string } | undefined;
    let sentCount = 0;
    for (let guard = 0; state.timer && state.status !== 'ended' && guard < 20; guard++) {
      const timer = state.timer;
      const due = Date.parse(timer.dueAt);
      if (purchasedAt !== undefined && purchasedAt < due) break;
      const fired = feed({
        type: 'TimerFired',
        timerId: timer.timerId,
        dueAt: timer.dueAt,
        now: timer.dueAt,
        ...(timer.purpose === 'abandonment'
          ? {
              start: {
                customer: {
                  ordersCount: returning ? 1 + Math.floor(rnd() * 6) : 0,
                  totalSpent: returning ? (rnd() * 1500).toFixed(2) : '0',
                  previousAbandonments: Math.floor(rnd() * 3),
                  previousRecoveries: 0,
                  discountOrdersCount: rnd() < 0.2 ? 1 : 0,
                  categoriesBought: returning ? ['c1'] : [],
                },
                sequences,
                random: rnd(),
                ...(o.policyControlPercent !== undefined ? { policyRandom: rnd() } : {}),
                shopTimeZone: 'America/New_York',
              },
            }
          : {}),
      });
      for (const e of fired) {
        if (e.type !== 'recovery.step-due') continue;
        const at = iso(due + 1000);
        if (e.mode.kind === 'shadow') {
          feed({ type: 'StepOutcome', step: e.step, at, outcome: { kind: 'skipped', reason: e.mode.reason } });
          continue;
        }
        if (rnd() < 0.1) {
          feed({ type: 'StepOutcome', step: e.step, at, outcome: { kind: 'skipped', reason: 'no-consent' } });
          continue;
        }
        const messageId = `msg-${i}-${e.step}`;
        sentCount++;
        const channel = 'email' as const;
        feed({
          type: 'StepOutcome',
          step: e.step,
          channel,
          at,
          outcome: {
            kind: 'sent',
            messageId,
            sent: {
              channel,
              template: { kind: 'sales', id: e.definition.template },
              cartValue: value,
              currency,
              itemCount: 1,
              leftOut: [],
              priceChanged: false,
              ...(e.definition.discountPercent > 0
                ? { discount: { percent: e.definition.discountPercent, expiresAt: iso(due + 7 * 24 * HOUR) } }
                : {}),
              consentUsed: { channel, basis: 'subscribed', source: 'shopify:checkout' },
            },
          },
        });
        if (rnd() < 0.45) {
          const openedAt = due + 20 * 60_000;
          feed({ type: 'MessageEngagement', kind: 'opened', step: e.step, channel, at: iso(openedAt) });
          if (rnd() < 0.4) {
            const clickAt = openedAt + 60_000;
            feed({
              type: 'MessageEngagement',
              kind: 'clicked',
              step: e.step,
              channel,
              at: iso(clickAt),
              targetHost: 'shop.example',
            });
            clicked = { step: e.step, at: clickAt, messageId };
          }
        }
      }
      // Shoppers who got no message buy less often: what the messages add (the lift).
      if (purchasedAt === undefined && rnd() < (sentCount > 0 ? buyProbability / 2 : buyProbability / 5)) {
        purchasedAt = (clicked?.at ?? due) + 30 * 60_000;
        orderId = `order-${i}`;
      }
    }
    if (orderId !== undefined && purchasedAt !== undefined) {
      const placed = iso(purchasedAt);
      const order = event<OrderPlaced>(EventTypes.OrderPlaced, {
        ...caused(purchasedAt),
        platform: 'shopify',
        platformUpdatedAt: placed,
        orderId,
        cartIds: [cartId],
        customerKey,
        reach: { email: true, sms: false },
        currency,
        total: value,
        subtotal: value,
        totalDiscounts: '0.00',
        discountCodes: [],
        placedAt: placed,
        lineItems: [],
      } as unknown as OrderPlaced['data']);
      streams.push({ streamId: `order-${o.shopId}-${orderId}`, events: [envelope(order, o.shopId)] });
      eventCount++;
      if (clicked && state.status === 'running') {
        feed({
          type: 'OrderAttributed',
          orderId,
          step: clicked.step,
          channel: 'email',
          messageId: clicked.messageId,
          clickedAt: iso(clicked.at),
          placedAt: placed,
          revenue: value,
          currency,
          discountUsed: false,
          at: placed,
        });
      }
      cartEvents.push(
        envelope(
          event<CartPurchased>(EventTypes.CartPurchased, { ...caused(purchasedAt), cartId, orderId, placedAt: placed }),
          o.shopId,
        ),
      );
      feed({ type: 'CartPurchased', orderId, at: placed });
    }
    streams.push({ streamId: `cart-${o.shopId}-${cartId}`, events: cartEvents });
    const stored = o.startedV1 ? recovery.map(asStartedV1) : recovery;
    streams.push({ streamId: recoveryId, events: stored.map((e) => envelope(e, o.shopId)) });
    eventCount += cartEvents.length + recovery.length;
  }
  return { streams, eventCount };
}

/** `recovery.started` as version 1 wrote it (before the arm was recorded). */
function asStartedV1(e: StoredRecoveryEvent): StoredRecoveryEvent {
  if (e.type !== 'recovery.started') return e;
  const { arm: _arm, propensity: _p, holdoutPercent: _h, rolloutPercent: _r, ...data } = e.data;
  return { ...e, schemaVersion: 1, data } as unknown as StoredRecoveryEvent;
}

/** Appends the simulated streams (a few at a time, like concurrent webhooks). */
export async function appendSimulation(store: EventStore, log: SimulatedLog, concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < log.streams.length) {
      const s = log.streams[next++];
      await store.append(s.streamId, s.events, 'any');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Test kit: a randomised recovery log with a known truth for the policy backtest. Carts are
 * abandoned through the real process manager (holdout and send-time draws from seeded uniforms,
 * recorded with their propensities); each recovery is then bought — `order.placed` plus the
 * `CartPurchased` that ends it as purchased — with a probability that depends on its action
 * (`trueRate`), else the cart is deleted (ended, nothing earned).
 */
import { randomUUID } from 'node:crypto';
import {
  createRecoveryDecider,
  defaultSequences,
  recoveryConfig,
  recoveryIdFor,
  type CustomerFeatures,
  type RecoveryConfig,
  type SendTimeArm,
} from '@reclaim/domain';
import { seededRandom } from '@reclaim/learning';
import type { EventStore } from '@reclaim/event-store';
import { loadRecovery, runRecovery } from '../../recovery/recovery-stream';

export interface BacktestSeedOptions {
  readonly shopId: string;
  readonly count: number;
  readonly seed: number;
  readonly firstAt: Date;
  readonly spacingMs: number;
  readonly holdoutPercent: number;
  /** Send-time optimisation on with this share in the `on` arm; undefined: off. */
  readonly sendTimeArmPercent?: number;
  /** Purchase probability by what the recovery did. */
  readonly trueRate: (action: { readonly silent: boolean; readonly sendTime?: SendTimeArm }) => number;
}

export interface SeededBacktestRecovery {
  readonly recoveryId: string;
  readonly value: number;
  readonly silent: boolean;
  readonly sendTime?: SendTimeArm;
  readonly purchased: boolean;
}

const DAY = 86_400_000;

export async function seedBacktestLog(store: EventStore, o: BacktestSeedOptions): Promise<SeededBacktestRecovery[]> {
  const config: RecoveryConfig = recoveryConfig({
    holdoutPercent: o.holdoutPercent,
    sendTime: { enabled: o.sendTimeArmPercent !== undefined, armPercent: o.sendTimeArmPercent ?? 50 },
  });
  const pm = createRecoveryDecider(config);
  const random = seededRandom(o.seed);
  const out: SeededBacktestRecovery[] = [];
  for (let i = 0; i < o.count; i++) {
    const cartId = `b${o.seed}-${i}`;
    const customerKey = `bk${o.seed}-${i}`;
    const recoveryId = recoveryIdFor(o.shopId, cartId);
    const value = Math.round(Math.exp(4 + 0.5 * (random() * 2 - 1)) * 100) / 100;
    const activityAt = new Date(o.firstAt.getTime() + i * o.spacingMs - config.abandonAfterMs);
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
        },
      },
      `bt:${cartId}:activity`,
      o.shopId,
    );
    const timer = (await loadRecovery(store, recoveryId)).state.timer;
    if (timer === undefined) throw new Error('no abandonment timer');
    const customer: CustomerFeatures = {
      ordersCount: 0,
      totalSpent: '0',
      previousAbandonments: 0,
      previousRecoveries: 0,
      discountOrdersCount: 0,
      categoriesBought: [],
    };
    const events = await runRecovery(
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
          sequences: defaultSequences(config),
          random: random(),
          sendTimeRandom: random(),
          shopTimeZone: 'UTC',
        },
      },
      `bt:${cartId}:abandoned`,
      o.shopId,
    );
    const started = events.find((e) => e.type === 'recovery.started');
    const assigned = events.find((e) => e.type === 'recovery.send-time-assigned');
    const silent = started?.type === 'recovery.started' ? started.arm !== 'live-treated' : true;
    const sendTime = !silent && assigned?.type === 'recovery.send-time-assigned' ? assigned.arm : undefined;
    const purchased = random() < o.trueRate({ silent, ...(sendTime !== undefined ? { sendTime } : {}) });
    const endAt = new Date(Date.parse(timer.dueAt) + (purchased ? DAY : 4 * DAY)).toISOString();
    if (purchased) {
      const orderId = `o-${randomUUID()}`;
      await store.append(
        `order-${o.shopId}-${orderId}`,
        [
          {
            id: randomUUID(),
            type: 'order.placed',
            schemaVersion: 1,
            data: {
              shopId: o.shopId,
              causationId: randomUUID(),
              receivedAt: endAt,
              platform: 'shopify',
              platformUpdatedAt: endAt,
              orderId,
              cartIds: [cartId],
              customerKey,
              reach: { email: true, sms: false },
              currency: 'USD',
              total: value.toFixed(2),
              discountCodes: [],
              placedAt: endAt,
              lineItems: [],
            },
          },
        ],
        'no_stream',
      );
      await runRecovery(
        store,
        pm,
        recoveryId,
        { type: 'CartPurchased', orderId, at: endAt },
        `bt:${cartId}:bought`,
        o.shopId,
      );
    } else {
      await runRecovery(store, pm, recoveryId, { type: 'CartDeleted', at: endAt }, `bt:${cartId}:deleted`, o.shopId);
    }
    out.push({ recoveryId, value, silent, ...(sendTime !== undefined ? { sendTime } : {}), purchased });
  }
  return out;
}

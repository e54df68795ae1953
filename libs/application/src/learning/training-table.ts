/**
 * The recovery score's training table, read from the event log (RFC 0011 §1): one row per recovery
 * that recorded its feature vector at abandonment (`recovery.features-recorded`, never
 * recomputed), labelled 1 when the customer (same customer key), or the recovery's own cart,
 * ordered within the label window after abandonment; only recoveries whose window has closed.
 * Holdout and live recoveries are both rows (`holdout` says which; it is not a feature).
 */
import {
  fromStoredRecoveryEvent,
  parseRecoveryId,
  scoreRow,
  type OrderPlacedData,
  type RecoveryFeatures,
} from '@reclaim/domain';
import type { FeatureRecord } from '@reclaim/learning';
import { START, type EventStore, type GlobalPosition } from '@reclaim/event-store';

export interface TrainingRow {
  readonly recoveryId: string;
  readonly shopId: string;
  readonly abandonedAt: string;
  readonly holdout: boolean;
  readonly featureSchema: number;
  /** The recorded vector as a model row (`scoreRow`). */
  readonly features: FeatureRecord;
  /** 1: an order within the label window. */
  readonly label: 0 | 1;
}

export interface TrainingTableOptions {
  /** One shop's recoveries and orders; every shop's (the pooled table) when absent. */
  readonly shopId?: string;
  readonly labelWindowMs: number;
  /** Recoveries abandoned after `now − labelWindowMs` are still open and left out. */
  readonly now: Date;
  /** Events per read (default 5,000). */
  readonly pageSize?: number;
}

interface Pending {
  shopId: string;
  cartId: string;
  customerKey?: string;
  abandonedAt?: string;
  holdout?: boolean;
  featureSchema?: number;
  features?: RecoveryFeatures;
}

const TYPES = ['recovery.activity-recorded', 'recovery.started', 'recovery.features-recorded', 'order.placed'];

/** Reads the table from the log, oldest abandonment first. */
export async function buildTrainingTable(store: EventStore, options: TrainingTableOptions): Promise<TrainingRow[]> {
  const streamPrefixes =
    options.shopId !== undefined
      ? [`recovery-${options.shopId}-`, `order-${options.shopId}-`]
      : ['recovery-', 'order-'];
  const recoveries = new Map<string, Pending>();
  /** Order times by `<shop> <customerKey>` and by `<shop> cart:<cartId>`. */
  const orders = new Map<string, number[]>();
  const addOrder = (key: string, at: number) => {
    const list = orders.get(key);
    if (list) list.push(at);
    else orders.set(key, [at]);
  };
  let after: GlobalPosition = START;
  const pageSize = options.pageSize ?? 5_000;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize, filter: { typePrefixes: TYPES, streamPrefixes } });
    for (const e of page) {
      if (e.type === 'order.placed') {
        const o = e.data as OrderPlacedData;
        const at = Date.parse(o.placedAt);
        if (!Number.isFinite(at)) continue;
        if (o.customerKey !== undefined) addOrder(`${o.shopId} ${o.customerKey}`, at);
        for (const cartId of o.cartIds) addOrder(`${o.shopId} cart:${cartId}`, at);
        continue;
      }
      const ev = fromStoredRecoveryEvent(e);
      const ids = parseRecoveryId(ev.recoveryId);
      if (ids === undefined) continue;
      let r = recoveries.get(ev.recoveryId);
      if (r === undefined) {
        r = { shopId: ids.shopId, cartId: ids.cartId };
        recoveries.set(ev.recoveryId, r);
      }
      if (ev.type === 'recovery.activity-recorded') {
        if (ev.cart.customerKey !== undefined) r.customerKey = ev.cart.customerKey;
      } else if (ev.type === 'recovery.started') {
        if (r.abandonedAt === undefined) {
          r.abandonedAt = ev.abandonedAt;
          r.holdout = ev.holdout;
        }
      } else if (ev.type === 'recovery.features-recorded') {
        if (r.features === undefined) {
          r.features = ev.features;
          r.featureSchema = ev.featureSchema;
        }
      }
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1].position;
  }
  const closedBefore = options.now.getTime() - options.labelWindowMs;
  const rows: TrainingRow[] = [];
  for (const [recoveryId, r] of recoveries) {
    if (r.features === undefined || r.abandonedAt === undefined) continue;
    const abandoned = Date.parse(r.abandonedAt);
    if (!(abandoned <= closedBefore)) continue;
    const until = abandoned + options.labelWindowMs;
    const bought = (key: string) => (orders.get(key) ?? []).some((t) => t >= abandoned && t <= until);
    const label =
      (r.customerKey !== undefined && bought(`${r.shopId} ${r.customerKey}`)) || bought(`${r.shopId} cart:${r.cartId}`)
        ? 1
        : 0;
    rows.push({
      recoveryId,
      shopId: r.shopId,
      abandonedAt: r.abandonedAt,
      holdout: r.holdout ?? false,
      featureSchema: r.featureSchema ?? 1,
      features: scoreRow(r.features),
      label,
    });
  }
  return rows.sort((a, b) =>
    a.abandonedAt < b.abandonedAt ? -1 : a.abandonedAt > b.abandonedAt ? 1 : a.recoveryId < b.recoveryId ? -1 : 1,
  );
}

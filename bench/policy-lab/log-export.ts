/**
 * The lab's log as the appliance would store it (RFC 0019): every event the recovery deciders
 * recorded, on its recovery stream with the appliance's metadata (`shopId`, `causationId`), and an
 * `order.placed` per purchase on its order stream (the shape the store webhooks record: total,
 * discounts, codes), written to the real PostgreSQL event store of libs/event-store — so the policy
 * backtest reads it with the code it reads a shop's log with.
 *
 * The engine calls {@link LabLogSink} (engine.ts `EngineOptions.log`); {@link LabLog} keeps the
 * events in memory in the order they were recorded and {@link exportLabLog} appends them stream by
 * stream (each stream in its own order; the backtest reads by stream, not by global position).
 */
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import type { OrderPlacedData, StoredRecoveryEvent } from '@reclaim/domain';
import {
  PostgresEventStore,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
} from '@reclaim/event-store';
import type { Shopper } from './shoppers';

/** A purchase in the lab: the order the store would report. */
export interface LabOrder {
  readonly orderId: string;
  readonly shopper: Shopper;
  /** What the shopper paid. */
  readonly total: number;
  /** The order's discount (0 without a code). */
  readonly discount: number;
  readonly code?: string;
  readonly at: number;
}

export interface LabLogSink {
  event(streamId: string, e: StoredRecoveryEvent, at: number): void;
  order(o: LabOrder): void;
}

/** The log of one lab run, in memory until exported. */
export class LabLog implements LabLogSink {
  readonly streams = new Map<string, { e: StoredRecoveryEvent; at: number }[]>();
  readonly orders: LabOrder[] = [];
  private events = 0;

  constructor(
    readonly shopId: string,
    readonly currency: string,
  ) {}

  event(streamId: string, e: StoredRecoveryEvent, at: number): void {
    let s = this.streams.get(streamId);
    if (s === undefined) {
      s = [];
      this.streams.set(streamId, s);
    }
    s.push({ e, at });
    this.events++;
  }

  order(o: LabOrder): void {
    this.orders.push(o);
  }

  get size(): { readonly streams: number; readonly events: number; readonly orders: number } {
    return { streams: this.streams.size, events: this.events, orders: this.orders.length };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The `order.placed` the store's order webhook would record for a lab purchase. */
export function orderPlaced(log: LabLog, o: LabOrder): OrderPlacedData {
  const at = iso(o.at);
  const subtotal = o.total + o.discount;
  return {
    shopId: log.shopId,
    causationId: `lab:order:${o.orderId}`,
    receivedAt: at,
    platform: 'shopify',
    platformUpdatedAt: at,
    orderId: o.orderId,
    cartIds: [`cart-${o.shopper.index}`],
    customerKey: o.shopper.customerKey,
    reach: { email: o.shopper.reach.email, sms: o.shopper.reach.sms },
    currency: log.currency,
    total: o.total.toFixed(2),
    subtotal: subtotal.toFixed(2),
    totalDiscounts: o.discount.toFixed(2),
    discountCodes: o.code !== undefined ? [o.code] : [],
    placedAt: at,
    lineItems: [
      {
        lineId: 'line-1',
        productId: `product-${o.shopper.segmentIndex}`,
        title: `Lab product ${o.shopper.segmentIndex}`,
        quantity: 1,
        unitPrice: subtotal.toFixed(2),
      },
    ],
  };
}

/** The log's streams as the export writes them: orders first, then each recovery stream in its own order. */
export function labLogStreams(log: LabLog): { readonly streamId: string; readonly events: readonly NewEvent[] }[] {
  const out: { streamId: string; events: NewEvent[] }[] = [];
  // Orders first: an order is on the log before the CartPurchased it causes, as in the appliance.
  for (const o of log.orders) {
    out.push({
      streamId: `order-${log.shopId}-${o.orderId}`,
      events: [
        {
          id: randomUUID(),
          type: 'order.placed',
          schemaVersion: 1,
          data: orderPlaced(log, o),
          metadata: { shopId: log.shopId, causationId: `lab:order:${o.orderId}` },
        },
      ],
    });
  }
  for (const [streamId, recorded] of log.streams) {
    out.push({
      streamId,
      events: recorded.map(({ e, at }, i) => ({
        id: randomUUID(),
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: { shopId: log.shopId, causationId: `lab:${streamId}:${i}:${at}` },
      })),
    });
  }
  return out;
}

/**
 * Appends the log to the store: each recovery stream in one append (its events in the order the
 * decider recorded them), each order on `order-<shop>-<orderId>`. Returns what was written.
 */
export async function exportLabLog(
  log: LabLog,
  store: EventStore,
): Promise<{ readonly streams: number; readonly events: number; readonly orders: number }> {
  let events = 0;
  for (const s of labLogStreams(log)) {
    await store.append(s.streamId, s.events, 'no_stream');
    events += s.events.length;
  }
  return { streams: log.streams.size, events, orders: log.orders.length };
}

/**
 * The same log read in memory (global positions in the export's order): what `readBacktestLog`
 * reads through `readAll`, for the lab's truths, without a database round trip per stream.
 */
export function memoryLogReader(log: LabLog): Pick<EventStore, 'readAll'> {
  const all: RecordedEvent[] = [];
  for (const s of labLogStreams(log)) {
    s.events.forEach((e, i) =>
      all.push({
        ...e,
        streamId: s.streamId,
        revision: BigInt(i),
        position: { commit: BigInt(all.length), prepare: BigInt(all.length) },
        recordedAt: new Date(0),
      }),
    );
  }
  return {
    async readAll(o: ReadAllOptions = {}) {
      const after = o.after?.commit ?? -1n;
      const f = o.filter;
      const out: RecordedEvent[] = [];
      for (let i = Number(after + 1n); i < all.length && out.length < (o.maxCount ?? Infinity); i++) {
        const e = all[i];
        if (f?.typePrefixes?.length && !f.typePrefixes.some((p) => e.type.startsWith(p))) continue;
        if (f?.streamPrefixes?.length && !f.streamPrefixes.some((p) => e.streamId.startsWith(p))) continue;
        out.push(e);
      }
      return out;
    },
  };
}

/** Creates the database of `url` when it does not exist (a throw-away database for an export). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw new Error(`--export-log: the database name "${name}" must be letters, digits and _ only`);
  }
  const server = new URL(url);
  server.pathname = '/postgres';
  const admin = new Client({ connectionString: server.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

/** Writes the log into the PostgreSQL database at `url` (created when missing; the event store migrated). */
export async function exportLabLogTo(
  log: LabLog,
  url: string,
): Promise<{ readonly streams: number; readonly events: number; readonly orders: number }> {
  await ensureDatabase(url);
  // A throw-away database: commits need not wait for the disk (an export is redone, not recovered).
  const pool = new Pool({ connectionString: url, max: 2, options: '-c synchronous_commit=off' });
  try {
    await PostgresEventStore.migrate(pool);
    const store = new PostgresEventStore({ pool });
    try {
      return await exportLabLog(log, store);
    } finally {
      await store.close();
    }
  } finally {
    await pool.end();
  }
}

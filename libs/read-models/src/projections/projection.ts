import { getHeapStatistics } from 'node:v8';
import type { PoolClient } from 'pg';
import type { SealedValue } from '@reclaim/domain';
import type { EventFilter, RecordedEvent } from '@reclaim/event-store';
import { qualified, type TableSpec } from '../schema';
import { insertRows, RowSet } from './rows';

/**
 * What the projections need of the personal data vault (libs/privacy `PersonalDataVault`): opening a
 * sealed value, `null` once the subject's key is shredded.
 */
export interface ContactVault {
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

/**
 * The rows of one rebuild, folded in memory (owned by `rebuildProjection`, RFC 0020). A rebuild
 * starts from empty tables and is their only writer, so the rows folded here are the whole tables:
 * a projection given a session keeps its rows in `state` (row sets created `complete`: never loaded,
 * never flushed), touches no table while it folds, and `rebuildProjection` writes every row once
 * (`write`) in the transaction that truncates the tables. Past {@link RebuildSession.MAX_ROWS} the
 * rebuild writes what it has and goes on batch by batch without a session.
 */
export class RebuildSession {
  /**
   * Rows held in memory at most: 500,000, or fewer when the heap is small — a quarter of the heap
   * limit at ~1 KB a row (the image's 192 MB heap keeps ~50,000), so a rebuild never needs more
   * than the heap it is given.
   */
  static readonly MAX_ROWS = Math.min(500_000, Math.floor((getHeapStatistics().heap_size_limit * 0.25) / 1024));
  private held: unknown;

  /** The rows kept from the previous batches, created by `init` on the first one. */
  state<T>(init: () => T): T {
    if (this.held === undefined) this.held = init();
    return this.held as T;
  }

  private rowSets(): RowSet[] {
    if (this.held === undefined) return [];
    return Object.values(this.held as Record<string, unknown>).filter((v): v is RowSet => v instanceof RowSet);
  }

  /** Rows held. */
  get size(): number {
    return this.rowSets().reduce((n, rows) => n + rows.size, 0);
  }

  /** Inserts every row held into its (truncated) table. */
  async write(tx: PoolClient): Promise<void> {
    for (const rows of this.rowSets()) await insertRows(tx, rows.spec, rows.all());
  }
}

export interface ApplyOptions {
  /** `false` (rebuilds): skip the derived tables (see {@link Projection.apply}). */
  readonly derived?: boolean;
  /** Rebuilds: fold into these rows in memory and touch no table (see {@link RebuildSession}). */
  readonly session?: RebuildSession;
  /** Opens sealed contacts for the masked contact table; without it that table is left as it is. */
  readonly vault?: ContactVault;
}

/**
 * A read-model projection: a durable checkpointed subscription (`subscription`) that writes its
 * tables with `apply(events, tx)` in the transaction of its checkpoint (R5). Idempotent: every row
 * remembers the position of the last event applied to it and older or equal events are skipped.
 */
export interface Projection {
  /** CLI name: `reclaim projections rebuild <name>`. */
  readonly name: string;
  /** Checkpoint name of its subscription. */
  readonly subscription: string;
  readonly filter: EventFilter;
  /** The tables it owns (truncated by a rebuild). */
  readonly tables: readonly TableSpec[];
  /**
   * `derived: false` (rebuilds): skip the derived tables (daily_funnel) per batch; `finishRebuild`
   * recomputes them once, in the transaction of the last batch.
   */
  apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void>;
  finishRebuild?(tx: PoolClient): Promise<void>;
}

export const SHOP_REDACTED = 'shop.redacted';

/** Deletes every row of the shop from the tables (shop/redact purges the shop's data, R29). */
export async function purgeShop(tx: PoolClient, tables: readonly TableSpec[], shopId: string): Promise<void> {
  for (const t of tables) await tx.query(`DELETE FROM ${qualified(t)} WHERE shop_id = $1`, [shopId]);
}

/** A rebuild's purge: the shop's rows are forgotten from the session's row sets. */
export function purgeShopRows(sets: Record<string, RowSet>, shopId: string): void {
  for (const rows of Object.values(sets)) rows.forget((row) => row.shop_id === shopId);
}

/**
 * Splits a batch at `shop.redacted` events so each part can be folded in memory and flushed before
 * the shop's rows are deleted.
 */
export function splitAtShopRedactions(events: readonly RecordedEvent[]): Array<RecordedEvent[] | RecordedEvent> {
  const parts: Array<RecordedEvent[] | RecordedEvent> = [];
  let current: RecordedEvent[] = [];
  for (const e of events) {
    if (e.type === SHOP_REDACTED) {
      if (current.length) parts.push(current);
      parts.push(e);
      current = [];
    } else {
      current.push(e);
    }
  }
  if (current.length) parts.push(current);
  return parts;
}

export function shopOfRedaction(e: RecordedEvent): string {
  return (e.data as { shopId: string }).shopId;
}

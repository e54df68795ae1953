import { getHeapStatistics } from 'node:v8';
import type { PoolClient } from 'pg';
import type { SealedValue } from '@reclaim/domain';
import type { EventFilter, RecordedEvent } from '@reclaim/event-store';
import { qualified, type TableSpec } from '../schema';

/**
 * What the projections need of the personal data vault (libs/privacy `PersonalDataVault`): opening a
 * sealed value, `null` once the subject's key is shredded.
 */
export interface ContactVault {
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

/**
 * Memory of one rebuild across its batches (owned by `rebuildProjection`). A rebuild starts from
 * truncated tables and is their only writer, so the rows it has written, kept here, are the whole
 * tables: while `complete`, a projection may keep its in-memory rows in `state` between batches and
 * skip re-reading them. `rebuildProjection` drops it after a failed attempt; a projection drops it
 * (see {@link RebuildSession.drop}) when it grows past its budget. Once dropped, the rest of the
 * rebuild reads the rows back from the tables, as the live projection does.
 */
export class RebuildSession {
  /**
   * Rows kept across batches; at most this many (the rest of the rebuild then reads them back):
   * 500,000, or fewer when the heap is small — a quarter of the heap limit at ~1 KB a row (the
   * image's 192 MB heap keeps ~50,000), so a rebuild never needs more than the heap it is given.
   */
  static readonly MAX_ROWS = Math.min(500_000, Math.floor((getHeapStatistics().heap_size_limit * 0.25) / 1024));
  private held: unknown;
  private whole = true;

  get complete(): boolean {
    return this.whole;
  }

  /** The state kept from the previous batches, created by `init` on the first one; undefined once dropped. */
  state<T>(init: () => T): T | undefined {
    if (!this.whole) return undefined;
    if (this.held === undefined) this.held = init();
    return this.held as T;
  }

  drop(): void {
    this.whole = false;
    this.held = undefined;
  }
}

export interface ApplyOptions {
  /** `false` (rebuilds): skip the derived tables (see {@link Projection.apply}). */
  readonly derived?: boolean;
  /** Rebuilds: rows kept across batches (see {@link RebuildSession}). */
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

import type { Pool } from 'pg';
import type { Queryable } from '../db';

/** NOTIFY channel: a request was enqueued (sent at the projector's commit; one per transaction). */
export const EFFECTS_CHANNEL = 'reclaim_engine_effects';

export type EffectKind = 'step' | 'reconcile' | 'ticket' | 'profile' | 'enrich';

export interface EffectRequest {
  /** Id of the recovery event that asked for the effect (`step-due`, `reconciliation-requested`, `ticket-requested`). */
  readonly requestId: string;
  readonly kind: EffectKind;
  readonly streamId: string;
  readonly shopId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly attempts: number;
}

/**
 * `engine.effect_queue`: filled by the recovery-events subscription in its transaction, drained by
 * effect runners with leases (`FOR UPDATE SKIP LOCKED`), like the timers.
 */
export class EffectQueue {
  constructor(private readonly pool: Pool) {}

  /** Asked for by a recovery event (its id is the request id): once, in the projector's transaction. */
  static async enqueue(
    tx: Queryable,
    request: {
      readonly requestId: string;
      readonly kind: EffectKind;
      readonly streamId: string;
      readonly shopId: string;
      readonly payload: object;
      readonly availableAt: string;
    },
  ): Promise<void> {
    // One round trip: the insert and the wake-up notification (delivered at commit; the same
    // channel and payload within one transaction are folded into one by PostgreSQL).
    await tx.query(
      `WITH queued AS (
         INSERT INTO engine.effect_queue (request_id, kind, stream_id, shop_id, payload, available_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING
       )
       SELECT pg_notify('${EFFECTS_CHANNEL}', '')`,
      [
        request.requestId,
        request.kind,
        request.streamId,
        request.shopId,
        JSON.stringify(request.payload),
        request.availableAt,
      ],
    );
  }

  async claim(now: Date, limit: number, leaseMs: number): Promise<EffectRequest[]> {
    const { rows } = await this.pool.query<{
      request_id: string;
      kind: EffectKind;
      stream_id: string;
      shop_id: string;
      payload: Record<string, unknown>;
      attempts: number;
    }>(
      `WITH ready AS (
         SELECT request_id FROM engine.effect_queue
         WHERE done_at IS NULL AND available_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY available_at, request_id LIMIT $2
         FOR UPDATE SKIP LOCKED)
       UPDATE engine.effect_queue q SET claimed_until = $1::timestamptz + $3 * interval '1 millisecond'
       FROM ready WHERE q.request_id = ready.request_id
       RETURNING q.request_id, q.kind, q.stream_id, q.shop_id, q.payload, q.attempts, q.available_at`,
      [now, limit, leaseMs],
    );
    return rows.map((r) => ({
      requestId: r.request_id,
      kind: r.kind,
      streamId: r.stream_id,
      shopId: r.shop_id,
      payload: r.payload,
      attempts: r.attempts,
    }));
  }

  async done(requestId: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE engine.effect_queue SET done_at = $2, claimed_until = NULL WHERE request_id = $1', [
      requestId,
      at,
    ]);
  }

  /** After a failure: counted, and claimable again at `retryAt`. */
  async retryLater(requestId: string, retryAt: Date): Promise<void> {
    await this.pool.query(
      'UPDATE engine.effect_queue SET claimed_until = $2, attempts = attempts + 1 WHERE request_id = $1',
      [requestId, retryAt],
    );
  }

  /** Makes requests claimable now (start-up recovery of interrupted effects). */
  async releaseNow(requestIds: readonly string[]): Promise<void> {
    if (requestIds.length === 0) return;
    await this.pool.query(
      'UPDATE engine.effect_queue SET claimed_until = NULL WHERE request_id = ANY($1::text[]) AND done_at IS NULL',
      [[...requestIds]],
    );
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM engine.effect_queue WHERE done_at IS NULL',
    );
    return rows[0].n;
  }
}

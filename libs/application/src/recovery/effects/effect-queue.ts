import type { Pool } from 'pg';
import { DEFAULT_DEAD_LETTER_SCHEMA } from '@reclaim/event-store/subscriptions/dead-letters';
import type { Queryable } from '../db';

/**
 * The name of the effect runner in the consumers' dead-letter registry
 * (`subscription_blocked_keys`): a request that keeps failing is parked there, keyed by its id.
 */
export const EFFECTS_DEAD_LETTERS = 'effects';
const BLOCKED_KEYS = `"${DEFAULT_DEAD_LETTER_SCHEMA}".subscription_blocked_keys`;

/** NOTIFY channel: a request was enqueued (sent at the projector's commit; one per transaction). */
export const EFFECTS_CHANNEL = 'reclaim_engine_effects';

export type EffectKind = 'step' | 'reconcile' | 'ticket' | 'profile' | 'enrich' | 'back-in-stock' | 'categorize';

export interface EffectRequest {
  /** Id of the recovery event that asked for the effect (`step-due`, `reconciliation-requested`, `ticket-requested`). */
  readonly requestId: string;
  readonly kind: EffectKind;
  readonly streamId: string;
  readonly shopId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly attempts: number;
}

/** A ticket or profile-sync request retried because its outside system fails. */
export interface BlockedEffect {
  readonly requestId: string;
  readonly effect: 'ticket' | 'profile';
  readonly recoveryId: string;
  readonly attempts: number;
  /** What the outside system answered last. */
  readonly error: string;
  /** Its first failure. */
  readonly since: string;
  readonly retryAt: string | null;
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

  /** Settled; a dead letter it came back from (an operator's retry) is cleared in the same statement. */
  async done(requestId: string, at: Date): Promise<void> {
    await this.pool.query(
      `WITH settled AS (
         UPDATE engine.effect_queue SET done_at = $2, claimed_until = NULL WHERE request_id = $1
       )
       DELETE FROM ${BLOCKED_KEYS} WHERE subscription = '${EFFECTS_DEAD_LETTERS}' AND key = $1`,
      [requestId, at],
    );
  }

  /**
   * Retry budget spent: the request is set aside (not claimed again) and parked as a dead letter
   * in the consumers' registry with its error, in one statement; an operator's retry there
   * re-queues it ({@link requeueRetried}).
   */
  async park(request: EffectRequest, at: Date, error: string): Promise<void> {
    await this.pool.query(
      `WITH parked AS (
         UPDATE engine.effect_queue SET done_at = $2, claimed_until = NULL, attempts = attempts + 1, last_error = $3
          WHERE request_id = $1
       )
       INSERT INTO ${BLOCKED_KEYS}
         (subscription, key, status, attempts, error, event_id, event_type, stream_id, next_attempt_at)
       VALUES ('${EFFECTS_DEAD_LETTERS}', $1, 'parked', $4, $3, $1, $5, $6, NULL)
       ON CONFLICT (subscription, key) DO UPDATE
         SET status = 'parked', attempts = EXCLUDED.attempts, error = EXCLUDED.error,
             last_failed_at = now(), next_attempt_at = NULL`,
      [request.requestId, at, error.slice(0, 500), request.attempts + 1, `effect:${request.kind}`, request.streamId],
    );
  }

  /**
   * Dead letters an operator asked to retry (status `retrying` in the registry): their requests are
   * claimable again at `now` with a fresh attempt budget; the dead letter stays listed (retrying)
   * until the request is done, or is parked again. Returns the re-queued request ids.
   */
  async requeueRetried(now: Date): Promise<string[]> {
    const { rows } = await this.pool.query<{ request_id: string }>(
      `UPDATE engine.effect_queue q
          SET done_at = NULL, claimed_until = NULL, attempts = 0, available_at = $1,
              blocked_since = NULL, last_error = NULL
         FROM ${BLOCKED_KEYS} k
        WHERE k.subscription = '${EFFECTS_DEAD_LETTERS}' AND k.status = 'retrying' AND k.next_attempt_at <= now()
          AND q.request_id = k.key AND q.done_at IS NOT NULL
        RETURNING q.request_id`,
      [now],
    );
    return rows.map((r) => r.request_id);
  }

  /**
   * After a failure: counted, and claimable again at `retryAt`; with the error, the request is
   * blocked (`blocked_since` from its first failure, `last_error` the latest; listed by
   * {@link blockedEffects}) until it is done.
   */
  async retryLater(
    requestId: string,
    retryAt: Date,
    error?: { readonly text: string; readonly at: Date },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE engine.effect_queue SET claimed_until = $2, attempts = attempts + 1,
              last_error = coalesce($3, last_error), blocked_since = coalesce(blocked_since, $4)
        WHERE request_id = $1`,
      [requestId, retryAt, error?.text ?? null, error?.at ?? null],
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

  /**
   * Ticket and profile-sync requests held up by their outside system (not done, failed at least
   * once), for the dashboard's attention list; newest failure first.
   */
  async blockedEffects(shopIds: readonly string[], limit = 200): Promise<BlockedEffect[]> {
    const { rows } = await this.pool.query<{
      request_id: string;
      kind: 'ticket' | 'profile';
      stream_id: string;
      attempts: number;
      last_error: string;
      blocked_since: Date;
      retry_at: Date | null;
    }>(
      `SELECT request_id, kind, stream_id, attempts, last_error, blocked_since, claimed_until AS retry_at
         FROM engine.effect_queue
        WHERE done_at IS NULL AND blocked_since IS NOT NULL AND kind IN ('ticket', 'profile')
          AND shop_id = ANY($1::text[])
        ORDER BY blocked_since DESC, request_id LIMIT $2`,
      [[...shopIds], limit],
    );
    return rows.map((r) => ({
      requestId: r.request_id,
      effect: r.kind,
      recoveryId: r.stream_id,
      attempts: r.attempts,
      error: r.last_error,
      since: r.blocked_since.toISOString(),
      retryAt: r.retry_at === null ? null : r.retry_at.toISOString(),
    }));
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM engine.effect_queue WHERE done_at IS NULL',
    );
    return rows[0].n;
  }
}

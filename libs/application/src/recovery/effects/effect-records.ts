/**
 * `engine.effects`: one row per attempted send (its idempotency key), the durable half of the
 * crash-safe send protocol (R2). `started` is written before anything leaves, `done` with the
 * outcome before the outcome is fed back; a `started` row found again means a crash in between.
 */
import type { Pool } from 'pg';
import type { Channel, StepOutcomeResult } from '@reclaim/domain';

export interface EffectRecord {
  readonly idempotencyKey: string;
  readonly requestId: string;
  readonly status: 'started' | 'done';
  readonly discountCode: string | null;
  readonly outcome: StepOutcomeResult | null;
}

export class EffectRecords {
  constructor(private readonly pool: Pool) {}

  async ofStep(recoveryId: string, step: number): Promise<EffectRecord[]> {
    const { rows } = await this.pool.query<{
      idempotency_key: string;
      request_id: string;
      status: 'started' | 'done';
      discount_code: string | null;
      outcome: StepOutcomeResult | null;
    }>(
      `SELECT idempotency_key, request_id, status, discount_code, outcome FROM engine.effects
       WHERE recovery_id = $1 AND step = $2`,
      [recoveryId, step],
    );
    return rows.map((r) => ({
      idempotencyKey: r.idempotency_key,
      requestId: r.request_id,
      status: r.status,
      discountCode: r.discount_code,
      outcome: r.outcome,
    }));
  }

  /** The requests of effects left `started` at or before `cutoff` (interrupted by a crash). */
  async startedBefore(cutoff: Date): Promise<string[]> {
    const { rows } = await this.pool.query<{ request_id: string }>(
      `SELECT request_id FROM engine.effects WHERE status = 'started' AND started_at <= $1`,
      [cutoff],
    );
    return rows.map((r) => r.request_id);
  }

  async start(key: string, recoveryId: string, step: number, channel: Channel, requestId: string, at: Date) {
    await this.pool.query(
      `INSERT INTO engine.effects (idempotency_key, recovery_id, step, channel, request_id, status, started_at)
       VALUES ($1, $2, $3, $4, $5, 'started', $6)
       ON CONFLICT (idempotency_key) DO UPDATE SET request_id = EXCLUDED.request_id, status = 'started',
         started_at = EXCLUDED.started_at, finished_at = NULL, outcome = NULL`,
      [key, recoveryId, step, channel, requestId, at],
    );
  }

  async finish(key: string, requestId: string, outcome: StepOutcomeResult, at: Date): Promise<void> {
    await this.pool.query(
      `UPDATE engine.effects SET status = 'done', finished_at = $3, outcome = $4
       WHERE idempotency_key = $1 AND request_id = $2`,
      [key, requestId, at, JSON.stringify(outcome)],
    );
  }

  /** The code of the effect's message and, when the adapter says, which store API made it. */
  async setDiscountCode(key: string, code: string, source?: string): Promise<void> {
    await this.pool.query(
      'UPDATE engine.effects SET discount_code = $2, discount_source = $3 WHERE idempotency_key = $1',
      [key, code, source ?? null],
    );
  }

  async discountCodeOf(key: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ discount_code: string | null }>(
      'SELECT discount_code FROM engine.effects WHERE idempotency_key = $1',
      [key],
    );
    return rows[0]?.discount_code ?? undefined;
  }

  /** Notes what reconciliation found on the effect's outcome. */
  async markReconciled(key: string, found: string): Promise<void> {
    await this.pool.query(
      `UPDATE engine.effects SET outcome = jsonb_set(COALESCE(outcome, '{}'::jsonb), '{reconciled}', to_jsonb($2::text))
       WHERE idempotency_key = $1`,
      [key, found],
    );
  }
}

/**
 * Engagement is never lost (issue 11, item 4). An open, a click or a provider's delivery status can
 * arrive before the appliance has recorded `recovery.message-sent` for that message: the provider
 * accepted the message and the shopper (or the provider) answered within milliseconds, before the
 * outcome was fed back into the recovery. The recovery cannot record it yet
 * (`engagementStatus` = `awaiting-send`), so it is held durably in `engine.held_engagement`, keyed
 * by the message (its idempotency key) and the kind — a duplicate is held once — and applied when
 * the send is recorded: at once by the effect that fed the send back ({@link applyHeld}), and by
 * the engine's sweep for whatever a crash left behind (messages the engine index knows as sent).
 * Applying goes through the recovery's decider with the engagement's own causation id, so it is
 * recorded exactly once whoever applies it and however often. What never matches a send expires
 * after ENGAGEMENT_HOLD and is counted in `/metrics` (`reclaim_engagement_held{status="expired"}`).
 */
import type { Pool } from 'pg';
import { engagementStatus, type RecoveryInput } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { EngineLog } from '../ports';
import { loadRecovery, runRecovery } from '../recovery-stream';
import type { ShopDeciders } from '../settings/shop-settings';

export type HeldInput =
  Extract<RecoveryInput, { type: 'MessageEngagement' }> | Extract<RecoveryInput, { type: 'DeliveryReported' }>;

/** `recorded` on the recovery now; `duplicate` (already recorded); `held` until the send is recorded. */
export type EngagementRecordResult = 'recorded' | 'duplicate' | 'held';

export interface HeldEngagementDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly deciders: ShopDeciders;
  readonly clock: () => Date;
  /** How long a held engagement waits for its send (ENGAGEMENT_HOLD). Default 7 days. */
  readonly holdMs?: number;
  readonly log?: EngineLog;
}

export const DEFAULT_ENGAGEMENT_HOLD_MS = 7 * 24 * 3_600_000;

interface HeldRow {
  message_key: string;
  engagement: string;
  shop_id: string;
  recovery_id: string;
  input: HeldInput;
  causation_id: string;
}

function kindOf(input: HeldInput): string {
  return input.type === 'MessageEngagement' ? input.kind : `delivery:${input.status}`;
}

export class HeldEngagement {
  constructor(private readonly deps: HeldEngagementDeps) {}

  /**
   * Records an engagement on its recovery, or holds it until the message's send is recorded.
   * `causationId` must be the same for the same engagement (a retry, a duplicate request).
   */
  /** An input that needs no send record first (a "notify me" request): decided at once. */
  async decideNow(shopId: string, recoveryId: string, input: RecoveryInput, causationId: string): Promise<void> {
    const pm = await this.deps.deciders.forShop(shopId);
    await runRecovery(this.deps.store, pm, recoveryId, input, causationId, shopId);
  }

  async record(
    shopId: string,
    recoveryId: string,
    input: HeldInput,
    causationId: string,
  ): Promise<EngagementRecordResult> {
    const pm = await this.deps.deciders.forShop(shopId);
    const events = await runRecovery(this.deps.store, pm, recoveryId, input, causationId, shopId);
    if (events.length > 0) return 'recorded';
    if (engagementStatus((await loadRecovery(this.deps.store, recoveryId)).state, input) !== 'awaiting-send') {
      return 'duplicate';
    }
    const now = this.deps.clock();
    await this.deps.pool.query(
      `INSERT INTO engine.held_engagement
         (message_key, engagement, shop_id, recovery_id, step, channel, input, causation_id, received_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (message_key, engagement) DO NOTHING`,
      [
        `${recoveryId}:step-${input.step}:${input.channel}`,
        kindOf(input),
        shopId,
        recoveryId,
        input.step,
        input.channel,
        JSON.stringify(input),
        causationId,
        now,
        new Date(now.getTime() + (this.deps.holdMs ?? DEFAULT_ENGAGEMENT_HOLD_MS)),
      ],
    );
    // The send may have been recorded (and its held engagement applied) between the check and the
    // insert: look again, so nothing waits for a send that already happened.
    if (engagementStatus((await loadRecovery(this.deps.store, recoveryId)).state, input) !== 'awaiting-send') {
      await this.applyHeld(recoveryId);
    }
    return 'held';
  }

  /** Applies the held engagement of a recovery whose send is now recorded; the number applied. */
  async applyHeld(recoveryId: string): Promise<number> {
    const { rows } = await this.deps.pool.query<HeldRow>(
      `SELECT message_key, engagement, shop_id, recovery_id, input, causation_id
         FROM engine.held_engagement
        WHERE recovery_id = $1 AND applied_at IS NULL AND expired_at IS NULL
        ORDER BY received_at, message_key, engagement`,
      [recoveryId],
    );
    if (rows.length === 0) return 0;
    let applied = 0;
    for (const row of rows) {
      const pm = await this.deps.deciders.forShop(row.shop_id);
      const events = await runRecovery(this.deps.store, pm, row.recovery_id, row.input, row.causation_id, row.shop_id);
      const done =
        events.length > 0 ||
        engagementStatus((await loadRecovery(this.deps.store, row.recovery_id)).state, row.input) !== 'awaiting-send';
      if (!done) continue;
      await this.deps.pool.query(
        `UPDATE engine.held_engagement SET applied_at = $3
          WHERE message_key = $1 AND engagement = $2 AND applied_at IS NULL`,
        [row.message_key, row.engagement, this.deps.clock()],
      );
      applied++;
    }
    return applied;
  }

  /**
   * The engine's sweep: applies what waits for a send the engine index already knows (a crash
   * between recording the send and applying), expires what waited longer than ENGAGEMENT_HOLD,
   * and prunes old rows (applied after a day, expired after 30 days).
   */
  async sweep(limit = 100): Promise<{ readonly applied: number; readonly expired: number }> {
    const now = this.deps.clock();
    const { rows } = await this.deps.pool.query<{ recovery_id: string }>(
      `SELECT DISTINCT h.recovery_id
         FROM engine.held_engagement h
         JOIN engine.sent_messages s ON s.recovery_id = h.recovery_id AND s.step = h.step AND s.channel = h.channel
        WHERE h.applied_at IS NULL AND h.expired_at IS NULL
        LIMIT $1`,
      [limit],
    );
    let applied = 0;
    for (const r of rows) applied += await this.applyHeld(r.recovery_id);
    const expired = await this.deps.pool.query<{ recovery_id: string; engagement: string }>(
      `UPDATE engine.held_engagement SET expired_at = $1
        WHERE applied_at IS NULL AND expired_at IS NULL AND expires_at <= $1
        RETURNING recovery_id, engagement`,
      [now],
    );
    for (const e of expired.rows) {
      this.deps.log?.warn(
        { recoveryId: e.recovery_id, engagement: e.engagement },
        'engagement expired: its message was never recorded as sent',
      );
    }
    await this.deps.pool.query(
      `DELETE FROM engine.held_engagement
        WHERE applied_at < $1::timestamptz - interval '1 day' OR expired_at < $1::timestamptz - interval '30 days'`,
      [now],
    );
    return { applied, expired: expired.rowCount ?? 0 };
  }
}

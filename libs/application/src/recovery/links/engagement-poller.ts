/**
 * Engagement back from a provider that delivers the messages itself (Klaviyo): its opens, clicks
 * and bounces of Reclaim's messages are polled with a durable cursor (`engine.engagement_sources`)
 * and recorded exactly like the SMTP path's pixel and click links — opens and clicks as
 * `MessageEngagement` (fatigue, send time, last-click attribution), bounces as the provider's
 * delivery status (`undelivered`, code `bounced`) — through the same recorder, which holds what
 * arrives before the send is recorded. Duplicates are harmless: the recovery records one open and
 * one click per message, and each engagement has its own causation id. The cursor is stored after
 * the engagement is recorded, so a crash in between reads it again (and records nothing twice).
 * Failures are counted on the source's row (`/metrics`, dashboard), never only logged.
 */
import type { Pool } from 'pg';
import { parseRecoveryId, type Channel } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import { describeProviderError, type EngagementCursor, type EngagementSource } from '@reclaim/ports';
import type { EngineLog } from '../ports';
import { loadRecovery } from '../recovery-stream';
import { EMAIL_SPAM_COMPLAINT } from '../experiments';
import type { RecoveryEngagementRecorder } from './message-link-recorders';

export interface EngagementPollResult {
  readonly received: number;
  readonly recorded: number;
}

export interface EngagementSourceStatus {
  readonly source: string;
  readonly lastPolledAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly consecutiveFailures: number;
  readonly failures: number;
  readonly received: number;
  readonly recorded: number;
}

/** How far back the first poll reads (the source keeps no cursor yet). */
export const FIRST_POLL_LOOKBACK_MS = 24 * 3_600_000;

const KEY = /^(.+):step-(\d{1,4}):(email|sms)$/;

export class EngagementPoller {
  private running: Promise<EngagementPollResult> | undefined;

  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly store: EventStore;
      readonly source: EngagementSource;
      readonly recorder: Pick<RecoveryEngagementRecorder, 'recordOpened' | 'recordClicked' | 'recordDeliveryStatus'>;
      readonly clock: () => Date;
      readonly log?: EngineLog;
    },
  ) {}

  get source(): string {
    return this.deps.source.source;
  }

  /** One poll (coalesced when called while one runs); rejects when the provider or the database failed. */
  pollOnce(): Promise<EngagementPollResult> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async poll(): Promise<EngagementPollResult> {
    const { pool, source } = this.deps;
    const now = this.deps.clock();
    const { rows } = await pool.query<{ cursor: EngagementCursor | null }>(
      `INSERT INTO engine.engagement_sources (source) VALUES ($1)
       ON CONFLICT (source) DO UPDATE SET source = EXCLUDED.source RETURNING cursor`,
      [source.source],
    );
    let page: Awaited<ReturnType<EngagementSource['poll']>>;
    let recorded = 0;
    try {
      page = await source.poll(rows[0]?.cursor ?? undefined, new Date(now.getTime() - FIRST_POLL_LOOKBACK_MS));
      for (const item of page.items) if (await this.record(item)) recorded++;
    } catch (err) {
      const error = describeProviderError(err);
      await pool.query(
        `UPDATE engine.engagement_sources SET last_polled_at = $2, last_error = $3, last_error_at = $2,
           consecutive_failures = consecutive_failures + 1, failures = failures + 1 WHERE source = $1`,
        [source.source, now, error],
      );
      this.deps.log?.warn({ source: source.source, error }, 'engagement poll failed');
      throw err;
    }
    await pool.query(
      `UPDATE engine.engagement_sources SET cursor = $2, last_polled_at = $3, last_success_at = $3,
         consecutive_failures = 0, received = received + $4, recorded = recorded + $5 WHERE source = $1`,
      [source.source, JSON.stringify(page.cursor), now, page.items.length, recorded],
    );
    return { received: page.items.length, recorded };
  }

  /** One engagement through the SMTP path's recorder; false when the key is not one of Reclaim's messages. */
  private async record(item: Awaited<ReturnType<EngagementSource['poll']>>['items'][number]): Promise<boolean> {
    const m = KEY.exec(item.messageKey);
    const ids = m ? parseRecoveryId(m[1]) : undefined;
    if (!m || ids === undefined) return false;
    const at = new Date(item.at);
    if (item.kind === 'bounced') {
      await this.deps.recorder.recordDeliveryStatus({
        idempotencyKey: item.messageKey,
        status: 'undelivered',
        errorCode: 'bounced',
        at,
      });
      return true;
    }
    if (item.kind === 'complained') {
      // Delivered, then reported as spam by the recipient: the complaint the experiments' guardrails count.
      await this.deps.recorder.recordDeliveryStatus({
        idempotencyKey: item.messageKey,
        status: 'delivered',
        errorCode: EMAIL_SPAM_COMPLAINT,
        at,
      });
      return true;
    }
    const { state } = await loadRecovery(this.deps.store, m[1]);
    const subject = {
      shopId: ids.shopId,
      recoveryId: m[1],
      step: Number(m[2]),
      channel: m[3] as Channel,
      customerKey: state.cart?.customerKey ?? '',
      at,
    };
    if (item.kind === 'opened') await this.deps.recorder.recordOpened(subject);
    else await this.deps.recorder.recordClicked({ ...subject, target: item.targetUrl ?? '' });
    return true;
  }

  /** Every source's poll health (dashboard, /metrics). */
  static async statuses(pool: Pool): Promise<EngagementSourceStatus[]> {
    const { rows } = await pool.query<{
      source: string;
      last_polled_at: Date | null;
      last_success_at: Date | null;
      last_error: string | null;
      last_error_at: Date | null;
      consecutive_failures: number;
      failures: string;
      received: string;
      recorded: string;
    }>('SELECT * FROM engine.engagement_sources ORDER BY source');
    const iso = (d: Date | null) => (d === null ? null : d.toISOString());
    return rows.map((r) => ({
      source: r.source,
      lastPolledAt: iso(r.last_polled_at),
      lastSuccessAt: iso(r.last_success_at),
      lastError: r.last_error,
      lastErrorAt: iso(r.last_error_at),
      consecutiveFailures: r.consecutive_failures,
      failures: Number(r.failures),
      received: Number(r.received),
      recorded: Number(r.recorded),
    }));
  }
}

import type { Pool } from 'pg';

/**
 * The recovery score's model card of a shop (RFC 0011; issue 14 item 6): the live model and the
 * last training's outcome (`read.model_status`), every trained version with its held-out figures
 * (`read.models`), the distribution of recorded scores by decile and the recovery rate in each
 * (`read.scores` joined with `read.recoveries`).
 */
export interface ModelCardVersion {
  readonly version: number;
  readonly scope: string | null;
  readonly status: string | null;
  readonly trigger: string | null;
  readonly trainedAt: string | null;
  readonly trainingWindow: { readonly from: string | null; readonly to: string | null };
  readonly rows: number | null;
  readonly positives: number | null;
  readonly validation: {
    readonly rows: number | null;
    readonly positives: number | null;
    readonly from: string | null;
    readonly to: string | null;
    readonly auc: number | null;
    readonly brier: number | null;
    readonly ece: number | null;
    readonly reliability: unknown;
  };
  readonly topFeatures: unknown;
  readonly contentHash: string | null;
  readonly decision: {
    readonly reason: string | null;
    readonly at: string | null;
    readonly champion: { readonly version: number; readonly auc: number | null; readonly brier: number | null } | null;
  };
  readonly retiredAt: string | null;
}

export interface ModelCard {
  readonly shopId: string;
  readonly status: {
    readonly liveVersion: number | null;
    readonly liveScope: string | null;
    readonly lastOutcome: string | null;
    readonly lastAt: string | null;
    readonly outcomes: number | null;
    readonly pooledOutcomes: number | null;
    readonly outcomesNeeded: number | null;
    readonly failures: number;
    readonly lastError: string | null;
    readonly lastFailedAt: string | null;
  } | null;
  readonly live: ModelCardVersion | null;
  readonly versions: readonly ModelCardVersion[];
  /** Scored recoveries by score decile (0 = lowest 10 %): count, mean score, recovered share. */
  readonly deciles: readonly {
    readonly decile: number;
    readonly recoveries: number;
    readonly meanScore: number;
    readonly recoveredRate: number;
  }[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v);
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : null);

export async function modelCard(pool: Pool, shopId: string): Promise<ModelCard> {
  const [status, models, deciles] = await Promise.all([
    pool.query(`SELECT * FROM read.model_status WHERE shop_id = $1`, [shopId]),
    pool.query(`SELECT * FROM read.models WHERE shop_id = $1 ORDER BY version DESC`, [shopId]),
    pool.query<{ decile: number; recoveries: number; mean_score: string; recovered_rate: string }>(
      `SELECT decile, count(*)::int AS recoveries, avg(score) AS mean_score, avg(recovered::int) AS recovered_rate
         FROM (SELECT s.score, coalesce(r.recovered, false) AS recovered,
                      ntile(10) OVER (ORDER BY s.score) - 1 AS decile
                 FROM read.scores s LEFT JOIN read.recoveries r USING (recovery_id)
                WHERE s.shop_id = $1 AND s.score IS NOT NULL) x
        GROUP BY decile ORDER BY decile`,
      [shopId],
    ),
  ]);
  const versions: ModelCardVersion[] = models.rows.map((m: Record<string, unknown>) => ({
    version: Number(m.version),
    scope: (m.scope as string | null) ?? null,
    status: (m.status as string | null) ?? null,
    trigger: (m.trigger as string | null) ?? null,
    trainedAt: iso(m.trained_at),
    trainingWindow: { from: iso(m.training_from), to: iso(m.training_to) },
    rows: num(m.rows),
    positives: num(m.positives),
    validation: {
      rows: num(m.validation_rows),
      positives: num(m.validation_positives),
      from: iso(m.validation_from),
      to: iso(m.validation_to),
      auc: num(m.auc),
      brier: num(m.brier),
      ece: num(m.ece),
      reliability: json(m.reliability),
    },
    topFeatures: json(m.top_features),
    contentHash: (m.content_hash as string | null) ?? null,
    decision: {
      reason: (m.decision_reason as string | null) ?? null,
      at: iso(m.decided_at),
      champion:
        m.champion_version === null || m.champion_version === undefined
          ? null
          : { version: Number(m.champion_version), auc: num(m.champion_auc), brier: num(m.champion_brier) },
    },
    retiredAt: iso(m.retired_at),
  }));
  const s = status.rows[0] as Record<string, unknown> | undefined;
  return {
    shopId,
    status: s
      ? {
          liveVersion: num(s.live_version),
          liveScope: (s.live_scope as string | null) ?? null,
          lastOutcome: (s.last_outcome as string | null) ?? null,
          lastAt: iso(s.last_at),
          outcomes: num(s.outcomes),
          pooledOutcomes: num(s.pooled_outcomes),
          outcomesNeeded: num(s.outcomes_needed),
          failures: Number(s.failures ?? 0),
          lastError: (s.last_error as string | null) ?? null,
          lastFailedAt: iso(s.last_failed_at),
        }
      : null,
    live: versions.find((v) => v.status === 'live') ?? null,
    versions,
    deciles: deciles.rows.map((d) => ({
      decile: Number(d.decile),
      recoveries: d.recoveries,
      meanScore: Number(d.mean_score),
      recoveredRate: Number(d.recovered_rate),
    })),
  };
}

/** Shops whose latest training failed (`/health`, `/metrics`). */
export async function failedModelTrainings(pool: Pool): Promise<
  {
    shopId: string;
    failures: number;
    lastError: string | null;
    lastFailedAt: string | null;
    lastOutcome: string | null;
  }[]
> {
  const { rows } = await pool.query(
    `SELECT shop_id, failures, last_error, last_failed_at, last_outcome FROM read.model_status WHERE failures > 0`,
  );
  return rows.map((r: Record<string, unknown>) => ({
    shopId: String(r.shop_id),
    failures: Number(r.failures),
    lastError: (r.last_error as string | null) ?? null,
    lastFailedAt: iso(r.last_failed_at),
    lastOutcome: (r.last_outcome as string | null) ?? null,
  }));
}

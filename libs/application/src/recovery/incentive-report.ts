/**
 * What the learned discount policy (RFC 0017) knows of a shop, per segment: each level's final
 * outcomes, posterior recovery rate and uplift over 0 % with its 95 % interval, the expected
 * incremental profit per 100 of cart value, and the level the policy would exploit now — exactly
 * the engine's numbers: the evidence is `incentiveEvidence` (the shared reward rule with the shop's
 * attribution window), the posteriors and the choice are the domain's `incentiveDistribution`.
 *
 * The exploit choice does not depend on the cart value: E[π(ℓ)] = V·(p̂ℓ(m − d) − p̂0·m) is V times
 * a number that does not depend on V, so its sign and argmax are the same for every cart.
 */
import { incentiveDistribution, playsLadder, type IncentiveMode, type IncentiveSettings } from '@reclaim/domain';
import type { Queryable } from './db';
import { incentiveEvidenceBySegment } from './facts';

/** The cart value the expected profits are shown for. */
export const PROFIT_PER_CART_VALUE = '100.00';

export interface IncentiveLevelReport {
  readonly percent: number;
  /** Final outcomes (the evidence) and the choices still pending. */
  readonly assigned: number;
  readonly recovered: number;
  readonly pending: number;
  readonly rate: number;
  readonly uplift: number;
  readonly upliftLow: number;
  readonly upliftHigh: number;
  /** E[π(ℓ)] for a cart of {@link PROFIT_PER_CART_VALUE} (shop currency). */
  readonly expectedProfitPer100: string | null;
}

export interface IncentiveSegmentReport {
  readonly segment: string;
  /** Recoveries that played the ladder (`fixed`, `ladder`): evidence of no single level. */
  readonly ladderChoices: number;
  /** The level the learned policy exploits now (0 = none), and why. */
  readonly exploitPercent: number;
  readonly exploitReason: string;
  readonly levels: readonly IncentiveLevelReport[];
}

export async function incentiveReport(
  q: Queryable,
  shopId: string,
  settings: IncentiveSettings,
  attributionWindowMs: number,
  now: Date,
): Promise<IncentiveSegmentReport[]> {
  const { rows } = await q.query<{
    segment: string;
    percent: number;
    mode: IncentiveMode;
    n: number;
    pending: number;
  }>(
    `SELECT segment, percent, mode, count(*)::int AS n,
            count(*) FILTER (WHERE ended_at IS NULL AND decided_at + $3 * interval '1 millisecond' >= $2)::int AS pending
       FROM engine.incentive_assignments WHERE shop_id = $1
      GROUP BY segment, percent, mode ORDER BY segment, percent`,
    [shopId, now, attributionWindowMs],
  );
  const ladder = [...new Set(rows.map((r) => r.percent).filter((p) => p > 0))].sort((a, b) => a - b);
  const segments = [...new Set(rows.map((r) => r.segment))];
  // Every segment's evidence in one query (the engine's own rule, as the send handler reads it).
  const evidenceOf = await incentiveEvidenceBySegment(q, shopId, now, attributionWindowMs);
  const out: IncentiveSegmentReport[] = [];
  for (const segment of segments) {
    const mine = rows.filter((r) => r.segment === segment);
    const evidence = evidenceOf.get(segment) ?? { segment, levels: [] };
    const view = incentiveDistribution({
      ladder,
      cartValue: PROFIT_PER_CART_VALUE,
      segment,
      settings: { ...settings, policy: 'learned' },
      evidence,
    });
    const best = view.best ?? 0;
    const profit = (l: number) => view.profits?.get(l)?.toFixed(2) ?? null;
    const top = [...ladder].sort((a, b) => view.profits!.get(b)!.cmp(view.profits!.get(a)!))[0];
    const pendingOf = (l: number) =>
      mine.filter((r) => r.percent === l && !playsLadder(r.mode)).reduce((n, r) => n + r.pending, 0);
    out.push({
      segment,
      ladderChoices: mine.filter((r) => playsLadder(r.mode)).reduce((n, r) => n + r.n, 0),
      exploitPercent: best,
      exploitReason:
        best === 0
          ? ladder.length === 0
            ? 'the ladder offers no discount'
            : `no level pays (best ${top} %: ${profit(top)} per ${PROFIT_PER_CART_VALUE})`
          : `${best} % has the highest expected incremental profit (${profit(best)} per ${PROFIT_PER_CART_VALUE})`,
      levels: (view.posteriors ?? []).map((p) => ({
        percent: p.percent,
        assigned: p.assigned,
        recovered: p.recovered,
        pending: pendingOf(p.percent),
        rate: p.rate,
        uplift: p.uplift,
        upliftLow: p.upliftLow,
        upliftHigh: p.upliftHigh,
        expectedProfitPer100: profit(p.percent),
      })),
    });
  }
  return out;
}

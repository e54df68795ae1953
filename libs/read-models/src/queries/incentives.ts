import type { Pool } from 'pg';

/** Withheld discounts of a shop by reason (`read.discount_withheld_counts`, RFC 0017). */
export interface WithheldCount {
  readonly reason: string;
  readonly steps: number;
  readonly recoveries: number;
  readonly lastWithheldAt: string | null;
}

/** A customer found farming recovery codes (`read.code_farmers`). */
export interface CodeFarmerRow {
  readonly customerKey: string;
  readonly firstDetectedAt: string | null;
  readonly detectedAt: string | null;
  readonly codePurchases: number;
  readonly orders: number;
  readonly codeOrderShare: number;
}

export interface DiscountReadModels {
  readonly withheld: readonly WithheldCount[];
  readonly codeFarmers: { readonly count: number; readonly latest: readonly CodeFarmerRow[] };
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** The dashboard's "Discounts" panel, from the read models: withheld counts and the latest code farmers. */
export async function discountReadModels(pool: Pool, shopId: string, latest = 20): Promise<DiscountReadModels> {
  const [withheld, count, farmers] = await Promise.all([
    pool.query<{ reason: string; steps: number; recoveries: number; last_withheld_at: Date | null }>(
      `SELECT reason, steps, recoveries, last_withheld_at FROM read.discount_withheld_counts
        WHERE shop_id = $1 ORDER BY steps DESC, reason`,
      [shopId],
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM read.code_farmers WHERE shop_id = $1`, [shopId]),
    pool.query<{
      customer_key: string;
      first_detected_at: Date | null;
      detected_at: Date | null;
      code_purchases: number;
      orders: number;
      code_order_share: string;
    }>(
      `SELECT customer_key, first_detected_at, detected_at, code_purchases, orders, code_order_share
         FROM read.code_farmers WHERE shop_id = $1 ORDER BY detected_at DESC, customer_key LIMIT $2`,
      [shopId, latest],
    ),
  ]);
  return {
    withheld: withheld.rows.map((r) => ({
      reason: r.reason,
      steps: r.steps,
      recoveries: r.recoveries,
      lastWithheldAt: iso(r.last_withheld_at),
    })),
    codeFarmers: {
      count: count.rows[0].n,
      latest: farmers.rows.map((r) => ({
        customerKey: r.customer_key,
        firstDetectedAt: iso(r.first_detected_at),
        detectedAt: iso(r.detected_at),
        codePurchases: r.code_purchases,
        orders: r.orders,
        codeOrderShare: Number(r.code_order_share),
      })),
    },
  };
}

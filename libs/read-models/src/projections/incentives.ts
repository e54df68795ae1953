import type { PoolClient } from 'pg';
import type {
  CustomerCodeFarmingDetectedData,
  DiscountWithheld,
  IncentiveChosen,
  RecoveryEvent,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { CODE_FARMERS, DISCOUNTS_WITHHELD, INCENTIVE_ASSIGNMENTS } from '../schema';
import {
  purgeShop,
  purgeShopRows,
  shopOfRedaction,
  splitAtShopRedactions,
  SHOP_REDACTED,
  type ApplyOptions,
  type Projection,
} from './projection';
import { discountCost } from './recoveries';
import { alreadyApplied, positionText, RowSet, type Row } from './rows';
import Decimal from 'decimal.js';

interface Tables {
  readonly assignments: RowSet;
  readonly withheld: RowSet;
  readonly farmers: RowSet;
}

const TYPES = [
  'recovery.incentive-chosen',
  'recovery.discount-withheld',
  'recovery.message-sent',
  'recovery.order-attributed',
  'recovery.ended',
  'customer.code-farming-detected',
] as const;

const shopOfRecovery = (recoveryId: string): string => recoveryId.slice('recovery-'.length, 'recovery-'.length + 36);

type Flat<T extends RecoveryEvent> = Omit<T, 'type' | 'schemaVersion'>;

/**
 * Folds the learned discounts' events (RFC 0017): each recovery's incentive choice with its end and
 * the net revenue of its attributed orders (`read.incentive_assignments`), every withheld discount
 * (`read.discounts_withheld`) and the customers found farming codes (`read.code_farmers`).
 *
 * The outcome is final when the recovery ends: `recovered` when it ended `purchased`, else
 * `not-recovered` (the engine's evidence also closes an open recovery's outcome once the attribution
 * window after the choice has passed; read models do not know the shop's window, so such a
 * recovery stays pending here until it ends). The discount cost of an attributed order that used the
 * recovery's code is estimated from the percent the recovery's messages offered (as
 * `read.attribution` does when the order's own discounts are unknown).
 */
export function applyIncentiveEvent(t: Tables, e: RecordedEvent): void {
  const position = positionText(e);
  if (e.type === 'customer.code-farming-detected') {
    const d = e.data as CustomerCodeFarmingDetectedData & { shopId: string };
    const key = { shop_id: d.shopId, customer_key: d.customerKey };
    const row = t.farmers.get(key);
    if (alreadyApplied(row, e)) return;
    t.farmers.put({
      ...key,
      first_detected_at: row?.first_detected_at ?? d.detectedAt,
      detected_at: d.detectedAt,
      detections: Number(row?.detections ?? 0) + 1,
      code_purchases: d.evidence.codePurchases.length,
      orders: d.evidence.orders,
      code_order_share: String(d.evidence.codeOrderShare),
      window_days: String(d.evidence.windowDays),
      position,
    });
    return;
  }
  const recoveryId = (e.data as { recoveryId: string }).recoveryId;
  if (e.type === 'recovery.discount-withheld') {
    const d = e.data as Flat<DiscountWithheld>;
    const key = { recovery_id: recoveryId, step: d.step };
    if (alreadyApplied(t.withheld.get(key), e)) return;
    t.withheld.put({
      ...key,
      shop_id: shopOfRecovery(recoveryId),
      reason: d.reason,
      percent: d.percent,
      detail: d.detail ?? null,
      withheld_at: d.at,
      position,
    });
    return;
  }
  const key = { recovery_id: recoveryId };
  const row: Row | undefined = t.assignments.get(key);
  if (e.type === 'recovery.incentive-chosen') {
    const d = e.data as Flat<IncentiveChosen>;
    if (row !== undefined) return; // one choice per recovery
    t.assignments.put({
      ...key,
      shop_id: shopOfRecovery(recoveryId),
      step: d.step,
      segment: d.segment,
      level: d.percent,
      mode: d.mode,
      propensity: String(d.propensity),
      levels: [...d.levels],
      expected_profits: JSON.stringify(d.expectedIncrementalProfit),
      reason: d.reason,
      chosen_at: d.at,
      sent_discount_percent: 0,
      orders: 0,
      revenue: '0',
      discount_cost: '0',
      net_revenue: '0',
      position,
    });
    return;
  }
  // The rest only matters to a recovery with a choice.
  if (row === undefined || alreadyApplied(row, e)) return;
  if (e.type === 'recovery.ended' && row.ended_at != null) return;
  row.position = position;
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'recovery.message-sent': {
      const percent = (d.sent as { discount?: { percent: number } } | undefined)?.discount?.percent ?? 0;
      row.sent_discount_percent = Math.max(Number(row.sent_discount_percent ?? 0), percent);
      break;
    }
    case 'recovery.order-attributed': {
      const revenue = d.revenue as string;
      const cost = discountCost(revenue, d.discountUsed as boolean, null, Number(row.sent_discount_percent ?? 0));
      row.orders = Number(row.orders ?? 0) + 1;
      row.revenue = new Decimal(String(row.revenue ?? 0)).plus(revenue).toFixed();
      row.discount_cost = new Decimal(String(row.discount_cost ?? 0)).plus(cost).toFixed();
      row.net_revenue = Decimal.max(new Decimal(String(row.revenue)).minus(String(row.discount_cost)), 0).toFixed();
      break;
    }
    case 'recovery.ended':
      row.ended_at = d.at;
      row.end_reason = d.reason;
      row.outcome = d.reason === 'purchased' ? 'recovered' : 'not-recovered';
      break;
    default:
      return;
  }
  t.assignments.put(row);
}

const newTables = (complete: boolean): Tables => ({
  assignments: new RowSet(INCENTIVE_ASSIGNMENTS, { complete }),
  withheld: new RowSet(DISCOUNTS_WITHHELD, { complete }),
  farmers: new RowSet(CODE_FARMERS, { complete }),
});

const relevant = (e: RecordedEvent): boolean =>
  (TYPES as readonly string[]).includes(e.type) &&
  // A message without a discount changes nothing here.
  (e.type !== 'recovery.message-sent' || (e.data as { sent?: { discount?: unknown } }).sent?.discount !== undefined);

export const incentivesProjection: Projection = {
  name: 'incentives',
  subscription: 'read-models.incentives',
  filter: { typePrefixes: [...TYPES, SHOP_REDACTED] },
  tables: [INCENTIVE_ASSIGNMENTS, DISCOUNTS_WITHHELD, CODE_FARMERS],
  async apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void> {
    const kept = options?.session?.state<Tables>(() => newTables(true));
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        if (kept) purgeShopRows({ ...kept }, shopOfRedaction(part));
        else await purgeShop(tx, [INCENTIVE_ASSIGNMENTS, DISCOUNTS_WITHHELD, CODE_FARMERS], shopOfRedaction(part));
        continue;
      }
      const t = kept ?? newTables(false);
      const mine = part.filter(relevant);
      const recoveries = mine
        .filter((e) => e.type.startsWith('recovery.'))
        .map((e) => (e.data as { recoveryId: string }).recoveryId);
      const farmers = mine
        .filter((e) => e.type === 'customer.code-farming-detected')
        .map((e) => {
          const d = e.data as { shopId: string; customerKey: string };
          return { shop_id: d.shopId, customer_key: d.customerKey };
        });
      const withheld = mine
        .filter((e) => e.type === 'recovery.discount-withheld')
        .map((e) => ({
          recovery_id: (e.data as { recoveryId: string }).recoveryId,
          step: (e.data as { step: number }).step,
        }));
      await t.assignments.loadBy(tx, 'recovery_id', recoveries);
      await t.withheld.load(tx, withheld);
      await t.farmers.load(tx, farmers);
      for (const e of mine) applyIncentiveEvent(t, e);
      await t.assignments.flush(tx);
      await t.withheld.flush(tx);
      await t.farmers.flush(tx);
    }
  },
};

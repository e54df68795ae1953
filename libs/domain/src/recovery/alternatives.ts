/**
 * Out of stock, handled like a good shop assistant would: for a line the store cannot sell, the
 * store's own suggestions (Shopify product recommendations, BigCommerce related products,
 * WooCommerce related / up-sell / cross-sell ids) are looked at in the store's order, each with
 * the stock and price the store answered for it, and the first that fits is offered in its place.
 * When none fits the line is announced as sold out. Pure: the application asks the store and
 * records what it answered (`recovery.alternatives-checked`), so a replay decides the same.
 */
import Decimal from 'decimal.js';
import { isDecimalString } from './money';
import type { DecimalString, RecoveryItem } from './types';

/** Which of the store's lists named a candidate. */
export type AlternativeSource = 'recommendations' | 'related' | 'upsell' | 'cross-sell';

/** A product the store suggests for a sold-out line, with the stock and price it answered for it. */
export interface AlternativeCandidate {
  readonly productId: string;
  /** The variant (Shopify, BigCommerce) or variation (WooCommerce) that would be bought, when the product has several. */
  readonly variantId?: string;
  readonly title: string;
  readonly variantTitle?: string;
  /** In stock for the line's quantity, as the store answered just now. */
  readonly available: boolean;
  /** The price shoppers pay now, when the store gave one. */
  readonly unitPrice?: DecimalString;
  readonly productUrl?: string;
  readonly imageUrl?: string;
  readonly source: AlternativeSource;
  /** Why the store's answer cannot be offered as it is (e.g. `variable-product`: no single variation to suggest). */
  readonly unusable?: string;
}

/** Why a candidate was (not) offered. */
export type CandidateVerdict =
  | 'offered'
  | 'out-of-stock'
  | 'no-price'
  | 'price-too-high'
  | 'already-in-cart'
  | 'same-product'
  | 'unusable'
  | 'not-needed';

export interface ConsideredCandidate {
  readonly productId: string;
  readonly variantId?: string;
  readonly source: AlternativeSource;
  readonly verdict: CandidateVerdict;
  readonly unitPrice?: DecimalString;
  /** `unusable`: the store's reason. */
  readonly detail?: string;
}

/** The alternative put in a sold-out line's place (what the message shows; no personal data). */
export interface OfferedAlternative {
  readonly productId: string;
  readonly variantId?: string;
  readonly title: string;
  readonly variantTitle?: string;
  readonly unitPrice: DecimalString;
  readonly productUrl?: string;
  readonly imageUrl?: string;
  readonly source: AlternativeSource;
}

/**
 * One line the store could not sell, what it suggested and what was decided: `alternative` when one
 * fits; `lookup` says whether the suggestions were found (`found`), the store had none (`none`) or
 * the lookup failed (`failed`, with `detail` in words) — a failure announces the line as sold out.
 */
export interface SoldOutLine {
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
  readonly title?: string;
  readonly quantity: number;
  readonly lookup: 'found' | 'none' | 'failed';
  readonly detail?: string;
  readonly considered: readonly ConsideredCandidate[];
  readonly alternative?: OfferedAlternative;
}

export interface AlternativeRules {
  /** An alternative may cost at most this much more per unit than the sold-out line (percent). */
  readonly maxPriceIncreasePercent: number;
}

export const DEFAULT_ALTERNATIVE_RULES: AlternativeRules = { maxPriceIncreasePercent: 20 };

/** Candidates looked at per sold-out line (the store's first ones, in its order). */
export const MAX_ALTERNATIVE_CANDIDATES = 8;

/**
 * The first candidate, in the store's order, that is in stock, has a price, costs at most
 * `maxPriceIncreasePercent` more than the line and is not already in the cart (nor the line's own
 * product); every candidate looked at is listed with its verdict.
 */
export function chooseAlternative(
  line: RecoveryItem,
  candidates: readonly AlternativeCandidate[],
  cartItems: readonly RecoveryItem[],
  rules: AlternativeRules = DEFAULT_ALTERNATIVE_RULES,
): { readonly alternative?: OfferedAlternative; readonly considered: readonly ConsideredCandidate[] } {
  const inCart = new Set(cartItems.map((i) => i.productId));
  const ceiling = isDecimalString(line.unitPrice)
    ? new Decimal(line.unitPrice).mul(new Decimal(100).plus(rules.maxPriceIncreasePercent)).div(100)
    : undefined;
  const considered: ConsideredCandidate[] = [];
  let alternative: OfferedAlternative | undefined;
  for (const c of candidates.slice(0, MAX_ALTERNATIVE_CANDIDATES)) {
    const base = {
      productId: c.productId,
      ...(c.variantId !== undefined ? { variantId: c.variantId } : {}),
      source: c.source,
      ...(c.unitPrice !== undefined ? { unitPrice: c.unitPrice } : {}),
    };
    const verdict = ((): CandidateVerdict => {
      if (alternative !== undefined) return 'not-needed';
      if (c.productId === line.productId) return 'same-product';
      if (inCart.has(c.productId)) return 'already-in-cart';
      if (c.unusable !== undefined) return 'unusable';
      if (!c.available) return 'out-of-stock';
      if (c.unitPrice === undefined || !isDecimalString(c.unitPrice)) return 'no-price';
      if (ceiling === undefined || new Decimal(c.unitPrice).gt(ceiling)) return 'price-too-high';
      return 'offered';
    })();
    considered.push({ ...base, verdict, ...(verdict === 'unusable' ? { detail: c.unusable } : {}) });
    if (verdict === 'offered' && c.unitPrice !== undefined) {
      alternative = {
        productId: c.productId,
        ...(c.variantId !== undefined ? { variantId: c.variantId } : {}),
        title: c.title,
        ...(c.variantTitle !== undefined ? { variantTitle: c.variantTitle } : {}),
        unitPrice: c.unitPrice,
        ...(c.productUrl !== undefined ? { productUrl: c.productUrl } : {}),
        ...(c.imageUrl !== undefined ? { imageUrl: c.imageUrl } : {}),
        source: c.source,
      };
    }
  }
  return { ...(alternative !== undefined ? { alternative } : {}), considered };
}

/** The line id an alternative is offered under: the sold-out line's, marked, so it never clashes with a cart line. */
export function alternativeLineId(lineId: string): string {
  return `${lineId}~alt`;
}

/** The sold-out line's alternative as an item of the send decision (same quantity, the store's current price). */
export function alternativeItem(line: SoldOutLine): RecoveryItem | undefined {
  const alt = line.alternative;
  if (alt === undefined) return undefined;
  return {
    lineId: alternativeLineId(line.lineId),
    productId: alt.productId,
    ...(alt.variantId !== undefined ? { variantId: alt.variantId } : {}),
    title: alt.title,
    quantity: line.quantity,
    unitPrice: alt.unitPrice,
  };
}

/**
 * Back-in-stock messages are numbered beside the sequence's steps: `1000 + watch` (their links,
 * send journal, opens and clicks, and the frequency cap use the number like a step's).
 */
export const BACK_IN_STOCK_FIRST_STEP = 1000;

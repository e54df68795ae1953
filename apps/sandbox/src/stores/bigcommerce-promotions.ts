import Decimal from 'decimal.js';
import type { StoreCall, StoreReply } from './store-http';

export interface PromotionCode {
  readonly id: number;
  readonly promotionId: number;
  readonly code: string;
  readonly max_uses: number;
  readonly max_uses_per_customer: number;
  current_uses: number;
  readonly created: string;
}

export interface PromotionsState {
  readonly promotions: Map<number, Record<string, unknown>>;
  /** Promotion codes by lower-cased code. */
  readonly promotionCodes: Map<string, PromotionCode>;
  nextPromotionId: number;
}

/**
 * The promotions engine of the BigCommerce stand-in (`/v3/promotions`, `/v3/promotions/{id}/codes`,
 * `/v3/promotions/{id}/codegen`), strict like the store: 422 naming the field, 409 on a taken
 * promotion name or code, 404 when the store has no promotions API (`config.promotions: false`).
 */
const DOCS = 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CODE = /^[A-Za-z0-9_-]{1,50}$/;

function v3Error(status: number, title: string, errors: Record<string, string> = {}): StoreReply {
  return { status, body: { status, title, type: DOCS, errors } };
}
const invalid = (field: string, why: string): StoreReply =>
  v3Error(422, 'JSON data is missing or invalid', { [field]: why });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The percentage of a promotion's `cart_value` rule, when it has one. */
function percentageOf(promotion: Record<string, unknown>): string | undefined {
  const rule = (promotion['rules'] as unknown[])[0] as Record<string, unknown>;
  const amount = (
    ((rule['action'] as Record<string, unknown>)['cart_value'] as Record<string, unknown> | undefined)?.['discount'] as
      Record<string, unknown> | undefined
  )?.['percentage_amount'];
  return typeof amount === 'string' ? amount : undefined;
}

function createPromotion(state: PromotionsState, b: Record<string, unknown>, now: Date): StoreReply {
  const name = b['name'];
  if (typeof name !== 'string' || name.trim() === '') return invalid('name', 'is required');
  if (name.length > 255) return invalid('name', 'must be at most 255 characters');
  if (b['redemption_type'] !== 'AUTOMATIC' && b['redemption_type'] !== 'COUPON')
    return invalid('redemption_type', 'must be AUTOMATIC or COUPON');
  const rules = b['rules'];
  if (!Array.isArray(rules) || rules.length === 0) return invalid('rules', 'must be a non-empty list');
  const first = rules[0] as unknown;
  if (!isObject(first) || !isObject(first['action'])) return invalid('rules.0.action', 'is required');
  const cartValue = first['action']['cart_value'];
  if (cartValue !== undefined) {
    const pct = isObject(cartValue) && isObject(cartValue['discount']) ? cartValue['discount']['percentage_amount'] : 0;
    if (pct !== undefined) {
      if (typeof pct !== 'string' || !/^\d+(\.\d+)?$/.test(pct) || new Decimal(pct).gt(100) || new Decimal(pct).lte(0))
        return invalid('rules.0.action.cart_value.discount.percentage_amount', 'must be a decimal string in (0, 100]');
    }
  }
  if (b['status'] !== undefined && !['ENABLED', 'DISABLED'].includes(String(b['status'])))
    return invalid('status', 'must be ENABLED or DISABLED');
  for (const field of ['start_date', 'end_date']) {
    const v = b[field];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !ISO.test(v) || !Number.isFinite(Date.parse(v))))
      return invalid(field, 'must be an ISO 8601 date-time');
  }
  if (typeof b['end_date'] === 'string' && Date.parse(b['end_date']) <= now.getTime())
    return invalid('end_date', 'must be in the future');
  for (const p of state.promotions.values()) {
    if (p['name'] === name) return v3Error(409, 'A promotion with this name already exists', { name: 'is taken' });
  }
  const id = state.nextPromotionId++;
  const promotion: Record<string, unknown> = {
    id,
    name,
    redemption_type: b['redemption_type'],
    rules,
    status: b['status'] ?? 'ENABLED',
    start_date: b['start_date'] ?? now.toISOString(),
    end_date: b['end_date'] ?? null,
    currency_code: b['currency_code'] ?? '*',
    can_be_used_with_other_promotions: b['can_be_used_with_other_promotions'] ?? false,
    current_uses: 0,
    max_uses: b['max_uses'] ?? null,
    customer: b['customer'] ?? { group_ids: [], minimum_order_count: 0, excluded_group_ids: [] },
    created_from: 'api',
  };
  state.promotions.set(id, promotion);
  return { status: 201, body: { data: promotion, meta: {} } };
}

function usesOf(b: Record<string, unknown>, field: string): number | StoreReply {
  const v = b[field] ?? 0;
  if (!Number.isInteger(v) || (v as number) < 0) return invalid(field, 'must be a whole number ≥ 0');
  return v as number;
}

function createCode(
  state: PromotionsState,
  promotion: Record<string, unknown>,
  b: Record<string, unknown>,
  now: Date,
): StoreReply {
  if (promotion['redemption_type'] !== 'COUPON')
    return invalid('promotion_id', 'codes can only be added to a COUPON promotion');
  const code = b['code'];
  if (typeof code !== 'string' || code === '') return invalid('code', 'is required');
  if (!CODE.test(code)) return invalid('code', 'must be 1–50 letters, digits, - or _');
  const maxUses = usesOf(b, 'max_uses');
  if (typeof maxUses !== 'number') return maxUses;
  const perCustomer = usesOf(b, 'max_uses_per_customer');
  if (typeof perCustomer !== 'number') return perCustomer;
  if (state.promotionCodes.has(code.toLowerCase()))
    return v3Error(409, 'The coupon code already exists', { code: 'is taken' });
  const entry: PromotionCode = {
    id: state.promotionCodes.size + 1,
    promotionId: promotion['id'] as number,
    code,
    max_uses: maxUses,
    max_uses_per_customer: perCustomer,
    current_uses: 0,
    created: now.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
  };
  state.promotionCodes.set(code.toLowerCase(), entry);
  const { promotionId: _p, ...body } = entry;
  return { status: 201, body: { data: body, meta: {} } };
}

function codegen(
  state: PromotionsState,
  promotion: Record<string, unknown>,
  b: Record<string, unknown>,
  now: Date,
): StoreReply {
  const size = b['batch_size'];
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 250)
    return invalid('batch_size', 'must be 1..250');
  const codes: { code: string }[] = [];
  for (let i = 0; codes.length < (size as number); i++) {
    const code = `GEN${promotion['id'] as number}X${state.promotionCodes.size + 1}X${i}`.slice(0, 50);
    if (state.promotionCodes.has(code.toLowerCase())) continue;
    const reply = createCode(state, promotion, { ...b, code }, now);
    if (reply.status !== 201) return reply;
    codes.push({ code });
  }
  const created = now.toISOString().replace(/\.\d{3}Z$/, '+00:00');
  return {
    status: 201,
    body: {
      data: {
        max_uses: b['max_uses'] ?? 0,
        max_uses_per_customer: b['max_uses_per_customer'] ?? 0,
        created,
        batch_size: size,
        codes,
      },
      meta: {},
    },
  };
}

export function handlePromotions(
  call: StoreCall,
  ctx: { state: PromotionsState; config: { readonly promotions?: boolean }; now: Date },
): StoreReply {
  const { state, now } = ctx;
  if (ctx.config.promotions === false) return v3Error(404, 'The requested resource was not found.');
  const p = call.path;
  const writes = call.method !== 'GET';
  if (writes && !(call.headers['content-type'] ?? '').startsWith('application/json'))
    return v3Error(415, 'Use application/json.');
  if (writes && (call.json instanceof SyntaxError || !isObject(call.json)))
    return v3Error(400, 'The request body is not a JSON object.');
  const body = (writes ? call.json : {}) as Record<string, unknown>;
  if (p === '/v3/promotions') {
    if (call.method === 'POST') return createPromotion(state, body, now);
    if (call.method !== 'GET') return v3Error(405, 'Method not allowed');
    const { name, code, redemption_type: type } = call.query;
    const byCode = code !== undefined ? state.promotionCodes.get(code.toLowerCase()) : undefined;
    const data = [...state.promotions.values()].filter(
      (x) =>
        (name === undefined || x['name'] === name) &&
        (type === undefined || x['redemption_type'] === type) &&
        (code === undefined || byCode?.promotionId === x['id']),
    );
    return {
      status: 200,
      body: {
        data,
        meta: {
          pagination: { total: data.length, count: data.length, per_page: 50, current_page: 1, total_pages: 1 },
        },
      },
    };
  }
  const m = /^\/v3\/promotions\/(\d+)(?:\/(codes|codegen))?$/.exec(p);
  const promotion = m ? state.promotions.get(Number(m[1])) : undefined;
  if (m === null || promotion === undefined) return v3Error(404, 'The requested resource was not found.');
  if (m[2] === undefined && call.method === 'GET') return { status: 200, body: { data: promotion, meta: {} } };
  if (m[2] === 'codes' && call.method === 'GET') {
    const data = [...state.promotionCodes.values()]
      .filter((c) => c.promotionId === promotion['id'])
      .map(({ promotionId: _p, ...c }) => c);
    return { status: 200, body: { data, meta: {} } };
  }
  if (m[2] === 'codes' && call.method === 'POST') return createCode(state, promotion, body, now);
  if (m[2] === 'codegen' && call.method === 'POST') return codegen(state, promotion, body, now);
  return v3Error(405, 'Method not allowed');
}

/** Why an order may not redeem the code, or undefined when it may. */
export function promotionRedemptionRefusal(state: PromotionsState, code: PromotionCode, now: Date): string | undefined {
  const promotion = state.promotions.get(code.promotionId);
  if (promotion === undefined || promotion['status'] !== 'ENABLED') return 'is invalid';
  if (code.max_uses > 0 && code.current_uses >= code.max_uses) return 'has reached its usage limit';
  const end = promotion['end_date'];
  if (typeof end === 'string' && Date.parse(end) <= now.getTime()) return 'has expired';
  return undefined;
}

/** The code's promotion in the v2 coupon shape the order path discounts with. */
export function promotionAsCoupon(state: PromotionsState, code: PromotionCode): Record<string, unknown> {
  const promotion = state.promotions.get(code.promotionId) as Record<string, unknown>;
  const pct = percentageOf(promotion);
  return { code: code.code, type: pct !== undefined ? 'percentage_discount' : 'promotion', amount: pct ?? '0' };
}

import { LosslessNumber } from 'lossless-json';
import Decimal from 'decimal.js';
import { effectivePrice, inStock, type Catalogue, type CatalogueEntry } from './catalogue';
import { handleShopifyWebhooks, shopifyHasScope, type ShopifyWebhook } from './shopify-webhooks';
import type { StoreCall, StoreReply } from './store-http';

/**
 * Shopify Admin GraphQL stand-in (`POST /admin/api/<version>/graphql.json`). It answers the
 * operations Reclaim uses — `nodes(ids:)` on ProductVariant and Product (type, collections), `codeDiscountNodeByCode`,
 * `discountCodeBasicCreate` — identified by `operationName` or the document's first operation,
 * checks the root field is in the document, validates variables against the documented input
 * types (unknown fields are GraphQL errors, bad values `userErrors`), keeps codes unique
 * (case-insensitive, `TAKEN`) and meters calculated query cost (`extensions.cost`, `THROTTLED`).
 */
export interface ShopifyDiscount {
  readonly id: string;
  readonly code: string;
  readonly title: string;
  readonly input: Record<string, unknown>;
  usageCount: number;
}

export interface ShopifyState {
  readonly discounts: Map<string, ShopifyDiscount>;
  /** Webhook subscriptions of the app on this shop, by gid. */
  readonly webhooks: Map<string, ShopifyWebhook>;
  /** Orders created through `POST /orders.json`, by id. */
  readonly orders: Map<string, Record<string, unknown>>;
  bucket: { available: number; at: number };
  nextId: number;
  nextOrderId: number;
}

export interface ShopifyConfig {
  readonly accessToken: string;
  /** Bucket size and restore rate (points per second). Standard plan: 100 / 100 per the docs; default 1000 / 50. */
  readonly maximumAvailable: number;
  readonly restoreRate: number;
  /** Access scopes granted to the token (`currentAppInstallation.accessScopes`). */
  readonly scopes: readonly string[];
}

/** What the stand-in grants unless told otherwise: every scope the appliance and the simulator use. */
export const SHOPIFY_SANDBOX_SCOPES = [
  'read_customers',
  'read_discounts',
  'write_discounts',
  'read_inventory',
  'read_orders',
  'write_orders',
  'read_products',
] as const;

export function newShopifyState(config: ShopifyConfig): ShopifyState {
  return {
    discounts: new Map(),
    webhooks: new Map(),
    orders: new Map(),
    bucket: { available: config.maximumAvailable, at: 0 },
    nextId: 1_000_000_000_001,
    nextOrderId: 5_500_000_000_001,
  };
}

const ROOT_FIELDS: Record<string, { field: string; kind: 'query' | 'mutation' }> = {
  nodes: { field: 'nodes', kind: 'query' },
  codeDiscountNodeByCode: { field: 'codeDiscountNodeByCode', kind: 'query' },
  discountCodeBasicCreate: { field: 'discountCodeBasicCreate', kind: 'mutation' },
  currentAppInstallation: { field: 'currentAppInstallation', kind: 'query' },
  webhookSubscriptions: { field: 'webhookSubscriptions', kind: 'query' },
  webhookSubscriptionCreate: { field: 'webhookSubscriptionCreate', kind: 'mutation' },
  webhookSubscriptionUpdate: { field: 'webhookSubscriptionUpdate', kind: 'mutation' },
  webhookSubscriptionDelete: { field: 'webhookSubscriptionDelete', kind: 'mutation' },
};

/** The scope each root field needs (`write_x` implies `read_x`). */
const FIELD_SCOPES: Record<string, string | undefined> = {
  nodes: 'read_products',
  codeDiscountNodeByCode: 'read_discounts',
  discountCodeBasicCreate: 'write_discounts',
};

/** The operation name a request runs: `operationName`, else the document's first named operation. */
export function shopifyOperationOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const body = json as { operationName?: unknown; query?: unknown };
  if (typeof body.operationName === 'string' && body.operationName !== '') return body.operationName;
  if (typeof body.query !== 'string') return undefined;
  return /\b(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(body.query)?.[1];
}

function gqlError(message: string, code?: string): StoreReply {
  return { status: 200, body: { errors: [{ message, ...(code !== undefined ? { extensions: { code } } : {}) }] } };
}

function rootFieldOf(query: string): { field: string; kind: 'query' | 'mutation' } | undefined {
  const kind = /^\s*mutation\b/.test(query) ? 'mutation' : 'query';
  const body = query.slice(query.indexOf('{') + 1);
  const name = /^\s*([_A-Za-z][_0-9A-Za-z]*)\s*[({]/.exec(body)?.[1];
  const root = name !== undefined ? ROOT_FIELDS[name] : undefined;
  return root !== undefined && root.kind === kind ? root : name !== undefined ? { field: name, kind } : undefined;
}

const BASIC_INPUT_FIELDS = new Set([
  'appliesOncePerCustomer',
  'code',
  'combinesWith',
  'customerGets',
  'customerSelection',
  'endsAt',
  'minimumRequirement',
  'recurringCycleLimit',
  'startsAt',
  'title',
  'usageLimit',
]);

type UserError = { field: string[]; code: string; message: string };

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function validateBasicInput(
  input: Record<string, unknown>,
  version: string,
  now: Date,
): { graphql?: string; userErrors: UserError[] } {
  const allowed = new Set(BASIC_INPUT_FIELDS);
  if (version >= '2025-10' || version === 'unstable') allowed.add('context');
  for (const k of Object.keys(input)) {
    if (!allowed.has(k)) {
      return {
        graphql: `Variable $basicCodeDiscount of type DiscountCodeBasicInput! was provided invalid value for ${k} (Field is not defined on DiscountCodeBasicInput)`,
        userErrors: [],
      };
    }
  }
  const errors: UserError[] = [];
  const f = (...path: string[]): string[] => ['basicCodeDiscount', ...path];
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  if (str(input['title']) === undefined)
    errors.push({ field: f('title'), code: 'BLANK', message: "Title can't be blank" });
  const code = str(input['code']);
  if (code === undefined) errors.push({ field: f('code'), code: 'BLANK', message: "Code can't be blank" });
  else if (code.length > 255)
    errors.push({ field: f('code'), code: 'TOO_LONG', message: 'Code is too long (maximum is 255 characters)' });
  else if (/[\r\n]/.test(code))
    errors.push({ field: f('code'), code: 'INVALID', message: 'Code cannot contain newline characters.' });
  const startsAt = input['startsAt'];
  const endsAt = input['endsAt'];
  if (typeof startsAt !== 'string' || !ISO.test(startsAt)) {
    errors.push({ field: f('startsAt'), code: 'BLANK', message: "Starts at can't be blank" });
  }
  if (endsAt !== undefined && endsAt !== null) {
    if (typeof endsAt !== 'string' || !ISO.test(endsAt)) {
      errors.push({ field: f('endsAt'), code: 'INVALID', message: 'Ends at is invalid' });
    } else if (typeof startsAt === 'string' && Date.parse(endsAt) <= Date.parse(startsAt)) {
      errors.push({ field: f('endsAt'), code: 'INVALID', message: 'Ends at needs to be after starts_at' });
    } else if (Date.parse(endsAt) <= now.getTime()) {
      errors.push({ field: f('endsAt'), code: 'INVALID', message: 'Ends at needs to be in the future' });
    }
  }
  const usageLimit = input['usageLimit'];
  if (
    usageLimit !== undefined &&
    usageLimit !== null &&
    (!Number.isInteger(usageLimit) || (usageLimit as number) < 1)
  ) {
    errors.push({ field: f('usageLimit'), code: 'GREATER_THAN', message: 'Usage limit must be greater than 0' });
  }
  const gets = input['customerGets'] as Record<string, unknown> | undefined;
  const value = (gets?.['value'] ?? {}) as Record<string, unknown>;
  const pct = value['percentage'];
  if (gets === undefined)
    errors.push({ field: f('customerGets'), code: 'BLANK', message: "Customer gets can't be blank" });
  else if (pct !== undefined && (typeof pct !== 'number' || pct < 0 || pct > 1)) {
    errors.push({
      field: f('customerGets', 'value', 'percentage'),
      code: 'VALUE_OUTSIDE_RANGE',
      message: 'Value must be between 0.0 and 1.0',
    });
  } else if (pct === undefined && value['discountAmount'] === undefined) {
    errors.push({ field: f('customerGets', 'value'), code: 'BLANK', message: "Value can't be blank" });
  }
  const selection = (input['context'] ?? input['customerSelection']) as Record<string, unknown> | undefined;
  if (input['context'] !== undefined && input['customerSelection'] !== undefined) {
    errors.push({ field: f('context'), code: 'CONFLICT', message: 'Only one of context or customerSelection' });
  } else if (selection === undefined) {
    errors.push({ field: f('context'), code: 'BLANK', message: "Context can't be blank" });
  } else {
    const add = (selection['customers'] as Record<string, unknown> | undefined)?.['add'];
    if (
      add !== undefined &&
      (!Array.isArray(add) || !add.every((id) => /^gid:\/\/shopify\/Customer\/\d+$/.test(String(id))))
    ) {
      errors.push({ field: f('context', 'customers', 'add'), code: 'INVALID', message: 'Customer ids are invalid' });
    }
    const all = selection['all'];
    if (add === undefined && all !== true && all !== 'ALL') {
      errors.push({ field: f('context'), code: 'INVALID', message: 'Select all buyers or specific customers' });
    }
  }
  return { userErrors: errors };
}

function variantNode(catalogue: Catalogue, gid: string): Record<string, unknown> | null {
  const id = /^gid:\/\/shopify\/ProductVariant\/(\d+)$/.exec(gid)?.[1];
  const e = id !== undefined ? catalogue.byVariantId(id) : undefined;
  if (e === undefined) return null;
  return {
    __typename: 'ProductVariant',
    id: gid,
    price: effectivePrice(e),
    availableForSale: inStock(e),
    inventoryQuantity: e.stock === null ? 0 : e.stock,
    inventoryPolicy: e.continueSelling ? 'CONTINUE' : 'DENY',
    inventoryItem: { tracked: e.stock !== null },
    sku: e.sku,
    title: e.title,
  };
}

/** A Product node: its type and its collections (`collections(first:) { nodes { title } }`). */
function productNode(catalogue: Catalogue, gid: string): Record<string, unknown> | null {
  const id = /^gid:\/\/shopify\/Product\/(\d+)$/.exec(gid)?.[1];
  const entries = id !== undefined ? catalogue.product(id) : [];
  if (id === undefined || entries.length === 0) return null;
  const t = catalogue.taxonomyOf(id);
  return {
    __typename: 'Product',
    id: gid,
    title: entries[0]?.title,
    productType: t.productType ?? '',
    collections: { nodes: t.categories.map((title) => ({ title })) },
  };
}

export function handleShopify(
  call: StoreCall,
  version: string,
  ctx: { catalogue: Catalogue; state: ShopifyState; config: ShopifyConfig; now: Date },
): StoreReply {
  if (call.method !== 'POST') return { status: 405, body: { errors: 'Method Not Allowed' } };
  if (!call.authorized) {
    return {
      status: 401,
      body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
    };
  }
  if (!(call.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return { status: 415, body: { errors: 'Unsupported Media Type: use application/json' } };
  }
  const json = call.json;
  if (json instanceof SyntaxError || typeof json !== 'object' || json === null) {
    return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
  }
  const body = json as { query?: unknown; variables?: unknown };
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
  }
  const vars = (typeof body.variables === 'object' && body.variables !== null ? body.variables : {}) as Record<
    string,
    unknown
  >;
  const root = rootFieldOf(body.query);
  if (root === undefined) return gqlError('Parse error: no selection', 'PARSE_ERROR');
  if (ROOT_FIELDS[root.field] === undefined) {
    return gqlError(
      `Field '${root.field}' doesn't exist on type '${root.kind === 'mutation' ? 'Mutation' : 'QueryRoot'}'`,
      'undefinedField',
    );
  }

  // Calculated query cost: a leaky bucket refilled at restoreRate points per second.
  const { state, config } = ctx;
  const nowMs = ctx.now.getTime();
  if (state.bucket.at === 0) state.bucket.at = nowMs;
  state.bucket.available = Math.min(
    config.maximumAvailable,
    state.bucket.available + ((nowMs - state.bucket.at) / 1000) * config.restoreRate,
  );
  state.bucket.at = nowMs;
  const ids = Array.isArray(vars['ids']) ? vars['ids'] : [];
  const cost = root.field === 'nodes' ? 1 + ids.length : root.kind === 'mutation' ? 10 : 1;
  const throttleStatus = () => ({
    maximumAvailable: new LosslessNumber(config.maximumAvailable.toFixed(1)),
    currentlyAvailable: Math.floor(state.bucket.available),
    restoreRate: new LosslessNumber(config.restoreRate.toFixed(1)),
  });
  if (state.bucket.available < cost) {
    return {
      status: 200,
      body: {
        errors: [
          {
            message: 'Throttled',
            extensions: {
              code: 'THROTTLED',
              documentation: 'https://shopify.dev/api/usage/rate-limits',
            },
          },
        ],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: throttleStatus() } },
      },
    };
  }
  state.bucket.available -= cost;
  const ok = (data: unknown): StoreReply => ({
    status: 200,
    body: {
      data,
      extensions: { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: throttleStatus() } },
    },
  });

  const needed = FIELD_SCOPES[root.field];
  if (needed !== undefined && !shopifyHasScope(config.scopes, needed)) {
    return gqlError(
      `Access denied for ${root.field} field. Required access: \`${needed}\` access scope.`,
      'ACCESS_DENIED',
    );
  }
  if (
    root.field.startsWith('webhookSubscription') &&
    version < '2025-10' &&
    version !== 'unstable' &&
    /\buri\b/.test(body.query)
  ) {
    return gqlError("Field 'uri' doesn't exist on type 'WebhookSubscription'", 'undefinedField');
  }
  const webhooks = handleShopifyWebhooks(
    root.field,
    vars,
    version,
    { webhooks: state.webhooks, nextId: () => state.nextId++, scopes: config.scopes, now: ctx.now },
    ok,
    gqlError,
  );
  if (webhooks !== undefined) return webhooks;
  if (root.field === 'nodes') {
    if (!Array.isArray(vars['ids']))
      return gqlError('Variable $ids of type [ID!]! was provided invalid value', 'INVALID_VARIABLE');
    if (ids.length > 250) return gqlError('The maximum number of ids is 250', 'MAX_INPUT_SIZE_EXCEEDED');
    for (const id of ids) {
      if (typeof id !== 'string' || !/^gid:\/\/shopify\/[A-Za-z]+\/\d+$/.test(id)) {
        return gqlError(`Invalid global id '${String(id)}'`, 'argumentLiteralsIncompatible');
      }
    }
    return ok({
      nodes: ids.map((id) =>
        (id as string).startsWith('gid://shopify/Product/')
          ? productNode(ctx.catalogue, id as string)
          : variantNode(ctx.catalogue, id as string),
      ),
    });
  }
  if (root.field === 'codeDiscountNodeByCode') {
    if (typeof vars['code'] !== 'string')
      return gqlError('Variable $code of type String! was provided invalid value', 'INVALID_VARIABLE');
    const d = state.discounts.get(vars['code'].toUpperCase());
    return ok({
      codeDiscountNodeByCode: d
        ? {
            id: d.id,
            codeDiscount: {
              __typename: 'DiscountCodeBasic',
              title: d.title,
              usageLimit: d.input['usageLimit'] ?? null,
              appliesOncePerCustomer: d.input['appliesOncePerCustomer'] === true,
              endsAt: d.input['endsAt'] ?? null,
              asyncUsageCount: d.usageCount,
              codes: { nodes: [{ code: d.code }] },
            },
          }
        : null,
    });
  }
  // discountCodeBasicCreate
  const input = vars['basicCodeDiscount'];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return gqlError(
      'Variable $basicCodeDiscount of type DiscountCodeBasicInput! was provided invalid value',
      'INVALID_VARIABLE',
    );
  }
  const checked = validateBasicInput(input as Record<string, unknown>, version, ctx.now);
  if (checked.graphql !== undefined) return gqlError(checked.graphql, 'INVALID_VARIABLE');
  const code = String((input as Record<string, unknown>)['code'] ?? '');
  if (checked.userErrors.length === 0 && state.discounts.has(code.toUpperCase())) {
    checked.userErrors.push({
      field: ['basicCodeDiscount', 'code'],
      code: 'TAKEN',
      message: 'Code must be unique. Please try a different code.',
    });
  }
  if (checked.userErrors.length > 0) {
    return ok({ discountCodeBasicCreate: { codeDiscountNode: null, userErrors: checked.userErrors } });
  }
  const id = `gid://shopify/DiscountCodeNode/${state.nextId++}`;
  state.discounts.set(code.toUpperCase(), {
    id,
    code,
    title: String((input as Record<string, unknown>)['title']),
    input: input as Record<string, unknown>,
    usageCount: 0,
  });
  return ok({ discountCodeBasicCreate: { codeDiscountNode: { id }, userErrors: [] } });
}

function restError(status: number, errors: unknown): StoreReply {
  return { status, body: { errors } };
}

/**
 * Shopify Admin REST `POST /admin/api/<version>/orders.json`: `{ order: { line_items: [{ variant_id,
 * quantity }], email, discount_codes: [{ code, amount, type }] } }`. Every line must be in stock
 * (422, nothing taken otherwise); a discount code must exist and not be used up (`usageLimit`, 422);
 * stock is taken and the code's usage counted only when the order is created (201 `{ order }`).
 */
export function handleShopifyOrderCreate(
  call: StoreCall,
  ctx: { catalogue: Catalogue; state: ShopifyState; now: Date },
): StoreReply {
  if (call.method !== 'POST') return restError(405, 'Method Not Allowed');
  if (!call.authorized) {
    return restError(401, '[API] Invalid API key or access token (unrecognized login or wrong password)');
  }
  if (!(call.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return restError(415, 'Unsupported Media Type: use application/json');
  }
  const json = call.json;
  const order = typeof json === 'object' && json !== null ? (json as { order?: unknown }).order : undefined;
  if (json instanceof SyntaxError || typeof order !== 'object' || order === null || Array.isArray(order)) {
    return restError(400, { order: 'Required parameter missing or invalid' });
  }
  const o = order as Record<string, unknown>;
  const rawLines = o['line_items'];
  if (!Array.isArray(rawLines) || rawLines.length === 0) return restError(422, { line_items: ["can't be blank"] });
  const lines: { entry: CatalogueEntry; quantity: number }[] = [];
  for (const raw of rawLines as unknown[]) {
    const l = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const quantity = l['quantity'];
    if (!Number.isInteger(quantity) || (quantity as number) < 1) {
      return restError(422, { line_items: ['quantity must be greater than 0'] });
    }
    const entry = ctx.catalogue.byVariantId(String(l['variant_id'] ?? ''));
    if (entry === undefined) return restError(422, { line_items: [`variant ${String(l['variant_id'])} not found`] });
    lines.push({ entry, quantity: quantity as number });
  }
  for (const { entry } of lines) {
    const wanted = lines.filter((x) => x.entry === entry).reduce((n, x) => n + x.quantity, 0);
    const enough = entry.stock === null || entry.continueSelling || entry.stock >= wanted;
    if (!entry.purchasable || !enough) {
      return restError(422, { line_items: [`${entry.title} is out of stock`] });
    }
  }
  const email = o['email'];
  if (email !== undefined && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email))) {
    return restError(422, { email: ['is invalid'] });
  }
  const rawCodes = o['discount_codes'] ?? [];
  if (!Array.isArray(rawCodes) || rawCodes.length > 1) {
    return restError(422, { discount_codes: ['only one discount code per order'] });
  }
  const codes = rawCodes as Record<string, unknown>[];
  let discount: ShopifyDiscount | undefined;
  if (codes.length === 1) {
    const code = String(codes[0]?.['code'] ?? '');
    discount = ctx.state.discounts.get(code.toUpperCase());
    if (discount === undefined) return restError(422, { discount_code: [`${code} is invalid`] });
    const limit = discount.input['usageLimit'];
    if (typeof limit === 'number' && discount.usageCount >= limit) {
      return restError(422, { discount_code: [`${code} has reached its usage limit`] });
    }
    const endsAt = discount.input['endsAt'];
    if (typeof endsAt === 'string' && Date.parse(endsAt) <= ctx.now.getTime()) {
      return restError(422, { discount_code: [`${code} has expired`] });
    }
  }
  for (const { entry, quantity } of lines) ctx.catalogue.take(entry, quantity);
  if (discount !== undefined) discount.usageCount += 1;
  const subtotal = lines.reduce(
    (sum, l) => sum.plus(new Decimal(effectivePrice(l.entry)).mul(l.quantity)),
    new Decimal(0),
  );
  const applied = codes[0];
  const discountAmount =
    applied !== undefined && applied['amount'] !== undefined && /^\d+(\.\d+)?$/.test(String(applied['amount']))
      ? Decimal.min(new Decimal(String(applied['amount'])), subtotal)
      : new Decimal(0);
  while (ctx.state.orders.has(String(ctx.state.nextOrderId))) ctx.state.nextOrderId += 1;
  const id = String(ctx.state.nextOrderId++);
  const at = ctx.now.toISOString();
  const created: Record<string, unknown> = {
    id: new LosslessNumber(id),
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    ...(typeof email === 'string' ? { email } : {}),
    created_at: at,
    updated_at: at,
    processed_at: at,
    financial_status: 'paid',
    subtotal_price: subtotal.toFixed(2),
    total_discounts: discountAmount.toFixed(2),
    total_price: subtotal.minus(discountAmount).toFixed(2),
    discount_codes:
      discount !== undefined
        ? [
            {
              code: discount.code,
              amount: discountAmount.toFixed(2),
              type: String(applied?.['type'] ?? 'fixed_amount'),
            },
          ]
        : [],
    line_items: lines.map((l, i) => ({
      id: i + 1,
      variant_id: new LosslessNumber(l.entry.variantId ?? l.entry.productId),
      product_id: new LosslessNumber(l.entry.productId),
      sku: l.entry.sku,
      title: l.entry.title,
      quantity: l.quantity,
      price: effectivePrice(l.entry),
    })),
  };
  ctx.state.orders.set(id, created);
  return { status: 201, body: { order: created } };
}

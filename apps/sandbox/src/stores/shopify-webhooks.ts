import type { StoreReply } from './store-http';
import { acceptsDestination } from './webhook-destinations';

/**
 * Shopify Admin GraphQL webhook subscriptions in the stand-in: `currentAppInstallation.accessScopes`,
 * `webhookSubscriptions` (cursor pages), `webhookSubscriptionCreate` / `Update` / `Delete`. As on
 * Shopify: a topic needs its access scope ("You cannot create a webhook subscription with the
 * specified topic"), one subscription per topic and address ("Address for this topic has already
 * been taken"), https addresses only (the stand-in also takes plain http on loopback, for local
 * runs), `uri` from 2025-10 (`callbackUrl` before), unknown ids refused in `userErrors`.
 */
export interface ShopifyWebhook {
  readonly id: string;
  readonly topic: string;
  uri: string;
  format: 'JSON' | 'XML';
  readonly createdAt: string;
  updatedAt: string;
}

export const SHOPIFY_TOPIC_SCOPES: Readonly<Record<string, string>> = {
  CHECKOUTS_CREATE: 'read_orders',
  CHECKOUTS_UPDATE: 'read_orders',
  CHECKOUTS_DELETE: 'read_orders',
  CARTS_CREATE: 'read_orders',
  CARTS_UPDATE: 'read_orders',
  ORDERS_CREATE: 'read_orders',
  ORDERS_UPDATED: 'read_orders',
  ORDERS_PAID: 'read_orders',
  ORDERS_CANCELLED: 'read_orders',
  CUSTOMERS_CREATE: 'read_customers',
  CUSTOMERS_UPDATE: 'read_customers',
  CUSTOMERS_DELETE: 'read_customers',
  CUSTOMERS_MARKETING_CONSENT_UPDATE: 'read_customers',
  CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE: 'read_customers',
  PRODUCTS_UPDATE: 'read_products',
  APP_UNINSTALLED: '',
};

/** Whether the granted scopes include `scope` (a `write_x` grants `read_x`). */
export function shopifyHasScope(granted: readonly string[], scope: string): boolean {
  if (scope === '' || granted.includes(scope)) return true;
  return scope.startsWith('read_') && granted.includes(`write_${scope.slice(5)}`);
}

type UserError = { field: string[] | null; message: string };
type Ok = (data: unknown) => StoreReply;
type GqlError = (message: string, code?: string) => StoreReply;

function usesUri(version: string): boolean {
  return version === 'unstable' || version >= '2025-10';
}

function nodeOf(w: ShopifyWebhook, version: string): Record<string, unknown> {
  return {
    id: w.id,
    topic: w.topic,
    format: w.format,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
    ...(usesUri(version) ? { uri: w.uri } : {}),
    callbackUrl: w.uri,
    endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: w.uri },
  };
}

function inputOf(
  raw: unknown,
  version: string,
  fail: GqlError,
): { uri?: string; format?: 'JSON' | 'XML'; field: string } | StoreReply {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(
      'Variable $webhookSubscription of type WebhookSubscriptionInput! was provided invalid value',
      'INVALID_VARIABLE',
    );
  }
  const input = raw as Record<string, unknown>;
  const allowed = new Set(['callbackUrl', 'format', 'includeFields', 'metafieldNamespaces', 'filter']);
  if (usesUri(version)) allowed.add('uri');
  for (const k of Object.keys(input)) {
    if (!allowed.has(k)) {
      return fail(
        `Variable $webhookSubscription of type WebhookSubscriptionInput! was provided invalid value for ${k} (Field is not defined on WebhookSubscriptionInput)`,
        'INVALID_VARIABLE',
      );
    }
  }
  const format = input['format'];
  if (format !== undefined && format !== 'JSON' && format !== 'XML') {
    return fail(
      `Variable $webhookSubscription of type WebhookSubscriptionInput! was provided invalid value for format`,
      'INVALID_VARIABLE',
    );
  }
  const uri =
    typeof input['uri'] === 'string'
      ? input['uri']
      : typeof input['callbackUrl'] === 'string'
        ? input['callbackUrl']
        : undefined;
  return {
    ...(uri !== undefined ? { uri } : {}),
    ...(format !== undefined ? { format: format as 'JSON' | 'XML' } : {}),
    field: input['uri'] !== undefined ? 'uri' : 'callbackUrl',
  };
}

function addressErrors(uri: string | undefined, field: string): UserError[] {
  if (uri === undefined || uri.trim() === '')
    return [{ field: ['webhookSubscription', field], message: "Address can't be blank" }];
  const problem = acceptsDestination(uri);
  return problem === undefined ? [] : [{ field: ['webhookSubscription', field], message: problem }];
}

export function handleShopifyWebhooks(
  field: string,
  vars: Record<string, unknown>,
  version: string,
  ctx: { webhooks: Map<string, ShopifyWebhook>; nextId: () => number; scopes: readonly string[]; now: Date },
  ok: Ok,
  fail: GqlError,
): StoreReply | undefined {
  if (field === 'currentAppInstallation') {
    return ok({ currentAppInstallation: { accessScopes: ctx.scopes.map((handle) => ({ handle })) } });
  }
  if (field === 'webhookSubscriptions') {
    const first = vars['first'] ?? 250;
    const all = [...ctx.webhooks.values()];
    const after = typeof vars['after'] === 'string' ? Number(Buffer.from(vars['after'], 'base64').toString('utf8')) : 0;
    const size = typeof first === 'number' ? Math.min(first, 250) : 250;
    const page = all.slice(after, after + size);
    const end = after + page.length;
    return ok({
      webhookSubscriptions: {
        edges: page.map((w, i) => ({
          cursor: Buffer.from(String(after + i + 1)).toString('base64'),
          node: nodeOf(w, version),
        })),
        pageInfo: {
          hasNextPage: end < all.length,
          endCursor: page.length > 0 ? Buffer.from(String(end)).toString('base64') : null,
        },
      },
    });
  }
  if (field === 'webhookSubscriptionCreate') {
    const topic = vars['topic'];
    if (typeof topic !== 'string' || SHOPIFY_TOPIC_SCOPES[topic] === undefined) {
      return fail(`Variable $topic of type WebhookSubscriptionTopic! was provided invalid value`, 'INVALID_VARIABLE');
    }
    const input = inputOf(vars['webhookSubscription'], version, fail);
    if ('status' in input) return input;
    const payload = (errors: UserError[], w?: ShopifyWebhook) =>
      ok({ webhookSubscriptionCreate: { webhookSubscription: w ? nodeOf(w, version) : null, userErrors: errors } });
    if (!shopifyHasScope(ctx.scopes, SHOPIFY_TOPIC_SCOPES[topic] as string)) {
      return payload([
        {
          field: ['webhookSubscription'],
          message: 'You cannot create a webhook subscription with the specified topic',
        },
      ]);
    }
    const errors = addressErrors(input.uri, input.field);
    if (errors.length > 0) return payload(errors);
    if ([...ctx.webhooks.values()].some((w) => w.topic === topic && w.uri === input.uri)) {
      return payload([
        { field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' },
      ]);
    }
    const at = ctx.now.toISOString();
    const w: ShopifyWebhook = {
      id: `gid://shopify/WebhookSubscription/${ctx.nextId()}`,
      topic,
      uri: input.uri as string,
      format: input.format ?? 'JSON',
      createdAt: at,
      updatedAt: at,
    };
    ctx.webhooks.set(w.id, w);
    return payload([], w);
  }
  if (field === 'webhookSubscriptionUpdate') {
    const id = vars['id'];
    if (typeof id !== 'string') return fail('Variable $id of type ID! was provided invalid value', 'INVALID_VARIABLE');
    const input = inputOf(vars['webhookSubscription'], version, fail);
    if ('status' in input) return input;
    const payload = (errors: UserError[], w?: ShopifyWebhook) =>
      ok({ webhookSubscriptionUpdate: { webhookSubscription: w ? nodeOf(w, version) : null, userErrors: errors } });
    const w = ctx.webhooks.get(id);
    if (w === undefined) return payload([{ field: ['id'], message: 'Webhook subscription does not exist' }]);
    if (input.uri !== undefined) {
      const errors = addressErrors(input.uri, input.field);
      if (errors.length > 0) return payload(errors);
      if ([...ctx.webhooks.values()].some((o) => o !== w && o.topic === w.topic && o.uri === input.uri)) {
        return payload([
          { field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' },
        ]);
      }
      w.uri = input.uri;
    }
    if (input.format !== undefined) w.format = input.format;
    w.updatedAt = ctx.now.toISOString();
    return payload([], w);
  }
  if (field === 'webhookSubscriptionDelete') {
    const id = vars['id'];
    if (typeof id !== 'string') return fail('Variable $id of type ID! was provided invalid value', 'INVALID_VARIABLE');
    const existed = ctx.webhooks.delete(id);
    return ok({
      webhookSubscriptionDelete: existed
        ? { deletedWebhookSubscriptionId: id, userErrors: [] }
        : {
            deletedWebhookSubscriptionId: null,
            userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
          },
    });
  }
  return undefined;
}

import {
  StoreConnectionError,
  type CredentialCheck,
  type PlatformSubscription,
  type StoreAccess,
  type StoreConnectionPort,
  type WantedSubscription,
} from '@reclaim/ports';
import { CONNECTION_HTTP_OPTIONS, jsonOf, sendToStore } from '../../common/connection-http';
import { arrOf, objOf, strOf, type JsonObject } from '../../common/lossless-json';
import { StoreHttpClient, type StoreHttpOptions } from '../../common/store-http';
import { shopifyGraphqlUrl } from '../commerce/shopify-commerce.adapter';

/** Topics the appliance subscribes to through `webhookSubscriptionCreate` (GraphQL enum names). */
export const SHOPIFY_SUBSCRIBED_TOPICS = [
  'CHECKOUTS_CREATE',
  'CHECKOUTS_UPDATE',
  'CHECKOUTS_DELETE',
  'CARTS_CREATE',
  'CARTS_UPDATE',
  'ORDERS_CREATE',
  'ORDERS_PAID',
  'CUSTOMERS_CREATE',
  'CUSTOMERS_UPDATE',
  'CUSTOMERS_MARKETING_CONSENT_UPDATE',
  'CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE',
  // Back in stock: a product's variants and their inventory.
  'PRODUCTS_UPDATE',
] as const;

/** Mandatory compliance topics: set in the app's configuration, never through the API. */
export const SHOPIFY_COMPLIANCE_TOPICS = ['customers/data_request', 'customers/redact', 'shop/redact'] as const;

/**
 * Access scopes the appliance uses: orders, checkouts and carts topics need `read_orders`, the
 * customer topics `read_customers`; stock and prices `read_products` + `read_inventory`; unique
 * discount codes `write_discounts`. A `write_x` scope implies `read_x`.
 */
export const SHOPIFY_REQUIRED_SCOPES = [
  'read_orders',
  'read_customers',
  'read_products',
  'read_inventory',
  'write_discounts',
] as const;

const ACCESS_SCOPES_QUERY = `query ReclaimAccessScopes { currentAppInstallation { accessScopes { handle } } }`;

/** `uri` replaced `endpoint { callbackUrl }` / `callbackUrl` in 2025-10. */
export function shopifyUsesUri(apiUrl: string): boolean {
  const version = /\/admin\/api\/(\d{4}-\d{2}|unstable)(\/|$)/.exec(apiUrl)?.[1];
  return version === undefined || version === 'unstable' || version >= '2025-10';
}

function subscriptionFields(uri: boolean): string {
  return uri
    ? 'id topic uri format'
    : 'id topic format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }';
}

function listQuery(uri: boolean): string {
  return `query ReclaimWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 250, after: $after) {
    edges { node { ${subscriptionFields(uri)} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

function createMutation(uri: boolean): string {
  return `mutation ReclaimWebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { ${subscriptionFields(uri)} }
    userErrors { field message }
  }
}`;
}

function updateMutation(uri: boolean): string {
  return `mutation ReclaimWebhookUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {
    webhookSubscription { ${subscriptionFields(uri)} }
    userErrors { field message }
  }
}`;
}

const DELETE_MUTATION = `mutation ReclaimWebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}`;

function toSubscription(node: JsonObject | undefined): PlatformSubscription {
  const id = strOf(node?.['id']);
  const topic = strOf(node?.['topic']);
  if (id === undefined || topic === undefined) {
    throw new StoreConnectionError('bad-response', 'shopify webhook subscription without id or topic');
  }
  const address = strOf(node?.['uri']) ?? strOf(objOf(node?.['endpoint'])?.['callbackUrl']) ?? '';
  return {
    id,
    topic,
    address,
    format: (strOf(node?.['format']) ?? 'JSON').toLowerCase(),
    active: true,
    secret: 'not-applicable',
  };
}

/**
 * Shopify Admin GraphQL: the granted scopes from `currentAppInstallation.accessScopes`, the
 * subscriptions with `webhookSubscriptions` / `webhookSubscriptionCreate` / `…Update` /
 * `…Delete` (JSON format; deliveries are signed with the app's secret, nothing per subscription).
 */
export class ShopifyConnectionAdapter implements StoreConnectionPort {
  private readonly http: StoreHttpClient;

  constructor(options: StoreHttpOptions = CONNECTION_HTTP_OPTIONS) {
    this.http = new StoreHttpClient(options);
  }

  wanted(_access: StoreAccess, publicUrl: string): WantedSubscription[] {
    const address = `${publicUrl}/webhooks/shopify`;
    return [
      ...SHOPIFY_SUBSCRIBED_TOPICS.map((topic) => ({ topic, address })),
      ...SHOPIFY_COMPLIANCE_TOPICS.map((topic) => ({
        topic,
        address,
        manual: `mandatory compliance topic: set ${address} as the app's ${topic} URL in its configuration (Partner Dashboard or shopify.app.toml); the API cannot subscribe to it`,
      })),
    ];
  }

  async verify(access: StoreAccess): Promise<CredentialCheck> {
    const data = await this.graphql(access, 'ReclaimAccessScopes', ACCESS_SCOPES_QUERY, {});
    const granted = arrOf(objOf(data['currentAppInstallation'])?.['accessScopes'])
      .map((s) => strOf(objOf(s)?.['handle']))
      .filter((h): h is string => h !== undefined);
    const has = (scope: string): boolean =>
      granted.includes(scope) || (scope.startsWith('read_') && granted.includes(`write_${scope.slice(5)}`));
    const missing = SHOPIFY_REQUIRED_SCOPES.filter((s) => !has(s));
    if (missing.length > 0) {
      throw new StoreConnectionError(
        'missing-scope',
        `missing scope ${missing.join(', ')} (granted: ${granted.join(', ') || 'none'})`,
        missing,
      );
    }
    return { required: [...SHOPIFY_REQUIRED_SCOPES], granted };
  }

  async list(access: StoreAccess): Promise<PlatformSubscription[]> {
    const uri = shopifyUsesUri(access.apiUrl);
    const out: PlatformSubscription[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const data = await this.graphql(access, 'ReclaimWebhookSubscriptions', listQuery(uri), { after });
      const conn = objOf(data['webhookSubscriptions']);
      for (const edge of arrOf(conn?.['edges'])) out.push(toSubscription(objOf(objOf(edge)?.['node'])));
      const info = objOf(conn?.['pageInfo']);
      if (info?.['hasNextPage'] !== true) break;
      after = strOf(info['endCursor']) ?? null;
      if (after === null) break;
    }
    return out;
  }

  async create(access: StoreAccess, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const uri = shopifyUsesUri(access.apiUrl);
    const data = await this.graphql(access, 'ReclaimWebhookCreate', createMutation(uri), {
      topic: wanted.topic,
      webhookSubscription: this.input(uri, wanted.address),
    });
    return this.payload(data['webhookSubscriptionCreate'], `subscription to ${wanted.topic}`);
  }

  async update(access: StoreAccess, id: string, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const uri = shopifyUsesUri(access.apiUrl);
    const data = await this.graphql(access, 'ReclaimWebhookUpdate', updateMutation(uri), {
      id,
      webhookSubscription: this.input(uri, wanted.address),
    });
    return this.payload(data['webhookSubscriptionUpdate'], `subscription to ${wanted.topic}`);
  }

  async remove(access: StoreAccess, id: string): Promise<void> {
    const data = await this.graphql(access, 'ReclaimWebhookDelete', DELETE_MUTATION, { id });
    const payload = objOf(data['webhookSubscriptionDelete']);
    const errors = arrOf(payload?.['userErrors']).map((e) => strOf(objOf(e)?.['message']) ?? 'refused');
    if (errors.length === 0 || errors.every((m) => /does not exist|not found/i.test(m))) return;
    throw new StoreConnectionError('refused', `shopify refused to delete subscription ${id}: ${errors.join('; ')}`);
  }

  private input(uri: boolean, address: string): Record<string, unknown> {
    return uri ? { uri: address, format: 'JSON' } : { callbackUrl: address, format: 'JSON' };
  }

  private payload(value: unknown, what: string): PlatformSubscription {
    const payload = objOf(value);
    const errors = arrOf(payload?.['userErrors']).map((e) => strOf(objOf(e)?.['message']) ?? 'refused');
    if (errors.length > 0) {
      const scope = errors.some((m) => /specified topic|access scope|not approved/i.test(m));
      throw new StoreConnectionError(
        scope ? 'missing-scope' : 'refused',
        `shopify refused the ${what}: ${errors.join('; ')}`,
      );
    }
    return toSubscription(objOf(payload?.['webhookSubscription']));
  }

  private async graphql(
    access: StoreAccess,
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<JsonObject> {
    const res = await sendToStore(
      this.http,
      {
        method: 'POST',
        url: shopifyGraphqlUrl(access.apiUrl),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-shopify-access-token': access.apiToken,
        },
        body: JSON.stringify({ query, variables, operationName }),
        idempotent: !query.trimStart().startsWith('mutation'),
        what: `shopify ${operationName}`,
      },
      'shopify',
    );
    if (res.status === 403) {
      throw new StoreConnectionError(
        'unauthorised',
        'shopify refused the apiToken (403): not authorised for this shop',
      );
    }
    if (res.status === 404) {
      throw new StoreConnectionError('unreachable', 'shopify Admin API not found at apiUrl (404)');
    }
    const body = objOf(jsonOf(res, `shopify ${operationName}`));
    if (res.status !== 200 || body === undefined) {
      throw new StoreConnectionError('bad-response', `shopify ${operationName} answered ${res.status}`);
    }
    const errors = arrOf(body['errors']).map((e) => objOf(e));
    if (errors.length > 0) {
      const codes = errors.map((e) => strOf(objOf(e?.['extensions'])?.['code']) ?? '');
      const messages = errors.map((e) => strOf(e?.['message']) ?? 'error').join('; ');
      if (codes.includes('ACCESS_DENIED')) {
        throw new StoreConnectionError('missing-scope', `shopify ${operationName}: access denied (${messages})`);
      }
      throw new StoreConnectionError('bad-response', `shopify ${operationName}: ${messages}`);
    }
    const data = objOf(body['data']);
    if (data === undefined) throw new StoreConnectionError('bad-response', `shopify ${operationName}: no data`);
    return data;
  }
}

import {
  StoreConnectionError,
  type CredentialCheck,
  type PlatformSubscription,
  type StoreAccess,
  type StoreConnectionPort,
  type WantedSubscription,
} from '@reclaim/ports';
import { CONNECTION_HTTP_OPTIONS, expectFromStore, sendJsonToStore } from '../../common/connection-http';
import { arrOf, objOf, strOf, type JsonObject } from '../../common/lossless-json';
import { StoreHttpClient, type StoreHttpOptions, type StoreHttpResponse } from '../../common/store-http';
import { wooCommerceApiBase, wooCommerceAuthorization } from '../commerce/woocommerce-commerce.adapter';
import { WOOCOMMERCE_TOPICS } from '../woocommerce-webhook.adapter';

/** The REST key's permissions the appliance needs (a key is `read`, `write` or `read_write`). */
export const WOOCOMMERCE_REQUIRED_PERMISSIONS = ['read', 'write'] as const;

/**
 * WooCommerce REST v3: the key's permissions (WooCommerce refuses a method the key may not use
 * before routing, so `GET /webhooks` proves `read` and an empty `POST /webhooks/batch` proves
 * `write` without changing anything), webhooks with `/webhooks` (each signed with the shop's
 * webhook secret). WooCommerce accepts duplicate webhooks, so the appliance lists before it
 * creates. The CartFlows plugin is configured by hand (its secret URL is returned once at
 * registration).
 */
export class WooCommerceConnectionAdapter implements StoreConnectionPort {
  private readonly http: StoreHttpClient;

  constructor(options: StoreHttpOptions = CONNECTION_HTTP_OPTIONS) {
    this.http = new StoreHttpClient(options);
  }

  wanted(_access: StoreAccess, publicUrl: string): WantedSubscription[] {
    const address = `${publicUrl}/webhooks/woocommerce`;
    return [
      ...WOOCOMMERCE_TOPICS.map((topic) => ({ topic, address })),
      {
        topic: 'cartflows',
        address: `${publicUrl}/webhooks/woocommerce/cartflows/<token>`,
        manual:
          'CartFlows plugin (cart activity): set its webhook URL to the cartflowsUrl returned once by POST /api/shops',
      },
    ];
  }

  async verify(access: StoreAccess): Promise<CredentialCheck> {
    const read = await this.send(access, 'GET', '/webhooks?per_page=1');
    if (read.status === 404) {
      throw new StoreConnectionError('unreachable', 'woocommerce REST API not found at apiUrl (404)');
    }
    const missing: string[] = [];
    const granted: string[] = [];
    if (read.status === 200) granted.push('read');
    else if (read.status === 403 || /read permission/i.test(read.text)) missing.push('read');
    else this.expect(read, [200], 'list webhooks');
    const write = await this.send(access, 'POST', '/webhooks/batch', {});
    if (write.status === 200) granted.push('write');
    else if (write.status === 403 || /write permission/i.test(write.text)) missing.push('write');
    else this.expect(write, [200], 'webhooks batch');
    if (missing.length > 0) {
      throw new StoreConnectionError(
        'missing-scope',
        `missing permission ${missing.join(', ')} (the REST API key needs Read/Write)`,
        missing,
      );
    }
    return { required: [...WOOCOMMERCE_REQUIRED_PERMISSIONS], granted };
  }

  async list(access: StoreAccess): Promise<PlatformSubscription[]> {
    const out: PlatformSubscription[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.send(access, 'GET', `/webhooks?per_page=100&page=${page}`);
      const list = arrOf(this.expect(res, [200], 'list webhooks'));
      for (const hook of list) out.push(toSubscription(objOf(hook)));
      const pages = Number(res.headers['x-wp-totalpages'] ?? '1');
      if (!Number.isFinite(pages) || page >= pages || list.length === 0) break;
    }
    return out;
  }

  async create(access: StoreAccess, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const res = await this.send(access, 'POST', '/webhooks', {
      name: `Reclaim ${wanted.topic}`,
      topic: wanted.topic,
      delivery_url: wanted.address,
      secret: access.webhookSecret,
      status: 'active',
    });
    return toSubscription(objOf(this.expect(res, [200, 201], `create webhook ${wanted.topic}`)));
  }

  async update(access: StoreAccess, id: string, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const res = await this.send(access, 'PUT', `/webhooks/${encodeURIComponent(id)}`, {
      delivery_url: wanted.address,
      secret: access.webhookSecret,
      status: 'active',
    });
    return toSubscription(objOf(this.expect(res, [200], `update webhook ${wanted.topic}`)));
  }

  async remove(access: StoreAccess, id: string): Promise<void> {
    // Webhooks cannot be trashed: without force=true WooCommerce answers 501.
    const res = await this.send(access, 'DELETE', `/webhooks/${encodeURIComponent(id)}?force=true`);
    if (res.status === 404) return;
    this.expect(res, [200], `delete webhook ${id}`);
  }

  private expect(res: StoreHttpResponse, ok: readonly number[], what: string): unknown {
    return expectFromStore(res, ok, `woocommerce ${what}`, {
      refusedStatuses: [400],
      missingScope: (r) => /permission/i.test(r.text),
    });
  }

  private send(
    access: StoreAccess,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<StoreHttpResponse> {
    let authorization: string;
    try {
      authorization = wooCommerceAuthorization(access.apiToken);
    } catch {
      return Promise.reject(
        new StoreConnectionError('unauthorised', 'woocommerce apiToken must be "ck_…:cs_…" (consumer key and secret)'),
      );
    }
    const url = `${wooCommerceApiBase(access.apiUrl)}${path}`;
    return sendJsonToStore(
      this.http,
      'woocommerce',
      { method, url, auth: { authorization }, body },
      // WooCommerce also answers 401 to a method the key's permissions exclude: that is a missing permission.
      (res) => res.status === 401 && !/permission/i.test(res.text),
    );
  }
}

function toSubscription(hook: JsonObject | undefined): PlatformSubscription {
  const id = strOf(hook?.['id']);
  const topic = strOf(hook?.['topic']);
  if (id === undefined || topic === undefined) {
    throw new StoreConnectionError('bad-response', 'woocommerce webhook without id or topic');
  }
  return {
    id,
    topic,
    address: strOf(hook?.['delivery_url']) ?? '',
    format: 'json',
    active: strOf(hook?.['status']) === 'active',
    secret: 'unreadable',
  };
}

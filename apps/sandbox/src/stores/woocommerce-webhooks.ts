import type { StoreCall, StoreReply } from './store-http';

/**
 * WooCommerce REST v3 `/webhooks` in the stand-in. As WooCommerce does: a key's permissions are
 * checked on the method before routing (401 "does not have write permissions"), duplicates are
 * accepted (nothing stops two webhooks with the same topic and URL), a topic must be a known
 * resource.event or `action.<hook>`, webhooks cannot be trashed (DELETE without `force=true`
 * answers 501), and the secret is write-only (never returned).
 */
export interface WooWebhook {
  readonly id: number;
  name: string;
  status: 'active' | 'paused' | 'disabled';
  topic: string;
  delivery_url: string;
  secret: string;
  readonly date_created_gmt: string;
  date_modified_gmt: string;
}

export type WooPermissions = 'read' | 'write' | 'read_write';

const RESOURCES = ['coupon', 'customer', 'order', 'product'];
const EVENTS = ['created', 'updated', 'deleted', 'restored'];

function wpError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): StoreReply {
  return { status, body: { code, message, data: { status, ...extra } } };
}

function gmt(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '');
}

function validTopic(topic: string): boolean {
  const [resource, event, ...rest] = topic.split('.');
  if (rest.length > 0 || resource === undefined || event === undefined) return false;
  if (resource === 'action') return /^[a-z0-9_]+$/.test(event);
  return RESOURCES.includes(resource) && EVENTS.includes(event);
}

function bodyOf(w: WooWebhook, site: string): Record<string, unknown> {
  const [resource, event] = w.topic.split('.');
  return {
    id: w.id,
    name: w.name,
    status: w.status,
    topic: w.topic,
    resource,
    event,
    hooks: [],
    delivery_url: w.delivery_url,
    date_created: w.date_created_gmt,
    date_created_gmt: w.date_created_gmt,
    date_modified: w.date_modified_gmt,
    date_modified_gmt: w.date_modified_gmt,
    _links: {
      self: [{ href: `${site}/wp-json/wc/v3/webhooks/${w.id}` }],
      collection: [{ href: `${site}/wp-json/wc/v3/webhooks` }],
    },
  };
}

/** 401 for a method the key's permissions exclude; undefined when allowed. */
export function wooPermissionCheck(call: StoreCall, permissions: WooPermissions): StoreReply | undefined {
  const reads = ['GET', 'HEAD', 'OPTIONS'].includes(call.method);
  if (reads && permissions === 'write') {
    return wpError(
      401,
      'woocommerce_rest_authentication_error',
      'The API key provided does not have read permissions.',
    );
  }
  if (!reads && permissions === 'read') {
    return wpError(
      401,
      'woocommerce_rest_authentication_error',
      'The API key provided does not have write permissions.',
    );
  }
  return undefined;
}

function validUrl(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function handleWooWebhooks(
  call: StoreCall,
  ctx: { webhooks: Map<number, WooWebhook>; nextId: () => number; site: string; now: Date },
): StoreReply | undefined {
  const m = /^\/webhooks(?:\/(\d+|batch))?$/.exec(call.path);
  if (m === null) return undefined;
  const { webhooks, site } = ctx;
  const b = (typeof call.json === 'object' && call.json !== null ? call.json : {}) as Record<string, unknown>;
  if (m[1] === 'batch') {
    if (call.method !== 'POST' && call.method !== 'PUT' && call.method !== 'PATCH')
      return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
    if (
      ['create', 'update', 'delete'].some(
        (k) => b[k] !== undefined && (!Array.isArray(b[k]) || (b[k] as unknown[]).length > 0),
      )
    ) {
      return wpError(501, 'sandbox_not_implemented', 'The stand-in only answers an empty batch.');
    }
    return { status: 200, body: {} };
  }
  const id = m[1] !== undefined ? Number(m[1]) : undefined;
  if (id === undefined && call.method === 'GET') {
    const perPage = Math.min(100, Math.max(1, Number(call.query['per_page'] ?? '10') || 10));
    const page = Math.max(1, Number(call.query['page'] ?? '1') || 1);
    const all = [...webhooks.values()].sort((a, b2) => b2.id - a.id);
    const list = all.slice((page - 1) * perPage, page * perPage).map((w) => bodyOf(w, site));
    return {
      status: 200,
      headers: {
        'x-wp-total': String(all.length),
        'x-wp-totalpages': String(Math.max(1, Math.ceil(all.length / perPage))),
      },
      body: list,
    };
  }
  if (id === undefined && call.method === 'POST') {
    const missing = ['topic', 'delivery_url'].filter((k) => b[k] === undefined || b[k] === '');
    if (missing.length > 0) {
      return wpError(400, 'rest_missing_callback_param', `Missing parameter(s): ${missing.join(', ')}`, {
        params: missing,
      });
    }
    if (typeof b['topic'] !== 'string' || !validTopic(b['topic'])) {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): topic', { params: { topic: 'Invalid topic.' } });
    }
    if (!validUrl(b['delivery_url'])) {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): delivery_url', {
        params: { delivery_url: 'delivery_url is not a valid URL.' },
      });
    }
    const status = b['status'] ?? 'active';
    if (status !== 'active' && status !== 'paused' && status !== 'disabled') {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): status', {
        params: { status: 'status is not one of active, paused, and disabled.' },
      });
    }
    const at = gmt(ctx.now);
    const w: WooWebhook = {
      id: ctx.nextId(),
      name: typeof b['name'] === 'string' && b['name'] !== '' ? b['name'] : `Webhook created on ${at}`,
      status,
      topic: b['topic'],
      delivery_url: b['delivery_url'],
      secret: typeof b['secret'] === 'string' ? b['secret'] : '',
      date_created_gmt: at,
      date_modified_gmt: at,
    };
    webhooks.set(w.id, w);
    return { status: 201, body: bodyOf(w, site) };
  }
  const w = id !== undefined ? webhooks.get(id) : undefined;
  if (w === undefined) return wpError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
  if (call.method === 'GET') return { status: 200, body: bodyOf(w, site) };
  if (call.method === 'PUT' || call.method === 'PATCH' || call.method === 'POST') {
    if (b['topic'] !== undefined && (typeof b['topic'] !== 'string' || !validTopic(b['topic']))) {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): topic', { params: { topic: 'Invalid topic.' } });
    }
    if (b['delivery_url'] !== undefined && !validUrl(b['delivery_url'])) {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): delivery_url', {
        params: { delivery_url: 'delivery_url is not a valid URL.' },
      });
    }
    const status = b['status'];
    if (status !== undefined && status !== 'active' && status !== 'paused' && status !== 'disabled') {
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): status', {
        params: { status: 'status is not one of active, paused, and disabled.' },
      });
    }
    if (typeof b['topic'] === 'string') w.topic = b['topic'];
    if (typeof b['delivery_url'] === 'string') w.delivery_url = b['delivery_url'];
    if (typeof b['secret'] === 'string') w.secret = b['secret'];
    if (typeof b['name'] === 'string') w.name = b['name'];
    if (status !== undefined) w.status = status;
    w.date_modified_gmt = gmt(ctx.now);
    return { status: 200, body: bodyOf(w, site) };
  }
  if (call.method === 'DELETE') {
    if (call.query['force'] !== 'true' && call.query['force'] !== '1') {
      return wpError(501, 'woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.');
    }
    webhooks.delete(w.id);
    return { status: 200, body: bodyOf(w, site) };
  }
  return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
}

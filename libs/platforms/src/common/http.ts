import type { RawWebhook } from '@reclaim/ports';

/** A header by lower-case name, trimmed; empty counts as missing. */
export function header(raw: RawWebhook, name: string): string | undefined {
  const v = raw.headers[name.toLowerCase()];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** The media type (lower-case, no parameters) from `contentType` or the content-type header. */
export function mediaType(raw: RawWebhook): string | undefined {
  const ct = raw.contentType ?? header(raw, 'content-type');
  if (ct === undefined) return undefined;
  const type = ct.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

export function isJsonMediaType(type: string | undefined): boolean {
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type));
}

/**
 * A shop's address as one key: lower-case, without scheme, query, fragment or trailing slash
 * ("https://Shop.example.com/store/" → "shop.example.com/store"). `undefined` when the host part
 * is not a plausible host name.
 */
export function normalizeShopUrl(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  let s = input.trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = (s.split(/[?#]/)[0] ?? '').replace(/\/+$/, '');
  const [host = '', ...path] = s.split('/');
  const h = host.replace(/\.$/, '');
  if (h.length === 0 || h.length > 253 || s.length > 512) return undefined;
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(h) || h.startsWith('.') || h.startsWith('-') || h.includes('..'))
    return undefined;
  if (path.some((seg) => seg === '' || !/^[a-z0-9._~%!$&'()*+,;=:@-]+$/.test(seg))) return undefined;
  return [h, ...path].join('/');
}

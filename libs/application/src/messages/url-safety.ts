import { BlockList, isIP } from 'node:net';

/**
 * Outbound URL safety (R22): product images, callbacks and anything else the appliance (or a
 * mail client on the shopper's behalf) fetches must point at the public internet — never at
 * loopback, link-local (169.254.169.254, the cloud metadata address), private, CGNAT or other
 * special ranges, and never at `file:`, `data:` or other schemes.
 *
 * `isPublicHttpUrl` judges the URL text (IP literals, including the decimal/hex/short forms the
 * WHATWG parser normalises); `assertPublicUrl` also resolves the host and checks every address.
 */

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64 (may embed any IPv4)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo etc.)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (embeds IPv4)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True when an IP address (v4 or v6, IPv4-mapped v6 included) is publicly routable. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is checked against the IPv4 rules by BlockList.
  return !NON_PUBLIC.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

const BLOCKED_NAMES =
  /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home|corp|home\.arpa|in-addr\.arpa|ip6\.arpa)$/;

export type UrlRefusal =
  'not-a-url' | 'scheme' | 'credentials' | 'internal-host' | 'non-public-address' | 'unresolvable' | 'too-long';

export interface UrlVerdict {
  readonly ok: boolean;
  readonly reason?: UrlRefusal;
}

const MAX_URL_LENGTH = 4096;

/** Judges the URL text only (no DNS). */
export function checkPublicHttpUrl(value: string): UrlVerdict {
  if (typeof value !== 'string' || value.length === 0) return { ok: false, reason: 'not-a-url' };
  if (value.length > MAX_URL_LENGTH) return { ok: false, reason: 'too-long' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'not-a-url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'scheme' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') return { ok: false, reason: 'not-a-url' };
  const literal = host.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0) return isPublicAddress(literal) ? { ok: true } : { ok: false, reason: 'non-public-address' };
  // Single-label names resolve through search domains to internal hosts ("metadata", "db").
  if (!host.includes('.') || BLOCKED_NAMES.test(host)) return { ok: false, reason: 'internal-host' };
  return { ok: true };
}

export function isPublicHttpUrl(value: string): boolean {
  return checkPublicHttpUrl(value).ok;
}

/** `dns.promises.lookup(host, { all: true })` or a stand-in for tests. */
export type HostResolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family?: number }>>;

export class UnsafeUrlError extends Error {
  constructor(readonly reason: UrlRefusal) {
    super(`refused URL: ${reason}`);
    this.name = 'UnsafeUrlError';
  }
}

/**
 * Checks the URL text, then resolves the host and refuses it when any resolved address is not
 * public (a name that points at 127.0.0.1 or 169.254.169.254 is as bad as the literal). A fetch
 * must then connect to one of the checked addresses and must not follow redirects blindly: each
 * redirect target goes through this check again.
 */
export async function assertPublicUrl(value: string, lookup: HostResolver): Promise<URL> {
  const verdict = checkPublicHttpUrl(value);
  if (!verdict.ok) throw new UnsafeUrlError(verdict.reason ?? 'not-a-url');
  const url = new URL(value);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return url;
  let addresses: ReadonlyArray<{ address: string }>;
  try {
    addresses = await lookup(host.replace(/\.$/, ''));
  } catch {
    throw new UnsafeUrlError('unresolvable');
  }
  if (addresses.length === 0) throw new UnsafeUrlError('unresolvable');
  if (addresses.some((a) => !isPublicAddress(a.address))) throw new UnsafeUrlError('non-public-address');
  return url;
}

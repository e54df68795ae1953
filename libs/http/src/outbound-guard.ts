import { lookup as dnsLookup } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The outbound URL guard (R22): store API URLs, provider URLs and anything they redirect to may
 * not reach the appliance's own machine or network by accident or by a hostile shop record.
 *
 * - never: link-local (169.254.0.0/16, fe80::/10 — cloud metadata lives there), metadata host
 *   names, unspecified (0.0.0.0/8, ::), multicast and reserved ranges, non-http(s) schemes;
 * - only with `ALLOW_PRIVATE_STORE_URLS=true` (a store on the private LAN, the sandbox's
 *   stand-ins on 127.0.0.1): loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16,
 *   100.64/10, fc00::/7);
 * - always: public addresses.
 *
 * Host names are resolved and every address checked before a request, and again when the
 * connection is made (the guarded `lookup`), so DNS answers that change in between (rebinding)
 * are caught. Redirects are not followed by the transport (undici `request`), so none can lead
 * elsewhere.
 */
export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'reserved';

export interface OutboundPolicy {
  /** Loopback and private ranges allowed (`ALLOW_PRIVATE_STORE_URLS`). */
  readonly allowPrivate: boolean;
}

const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

function blockList(ranges: readonly [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of ranges) list.addSubnet(net, prefix, type);
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const LINK_LOCAL = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
  ['fd00:ec2::', 32, 'ipv6'],
]);
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const UNSPECIFIED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
const RESERVED = blockList([
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['ff00::', 8, 'ipv6'],
]);

/** What kind of address an IP literal is. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is judged as the IPv4 address. */
export function classifyAddress(ip: string): AddressClass {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(address, type)) return 'loopback';
  if (LINK_LOCAL.check(address, type)) return 'link-local';
  if (UNSPECIFIED.check(address, type)) return 'unspecified';
  if (PRIVATE.check(address, type)) return 'private';
  if (RESERVED.check(address, type)) return 'reserved';
  return 'public';
}

function allowed(kind: AddressClass, policy: OutboundPolicy): boolean {
  return kind === 'public' || (policy.allowPrivate && (kind === 'private' || kind === 'loopback'));
}

/** An outbound request to a refused address: never sent. */
export class OutboundAddressRefusedError extends Error {
  readonly code = 'EREFUSED_OUTBOUND';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`outbound request to ${host} refused: ${reason} (R22)`);
    this.name = 'OutboundAddressRefusedError';
  }
}

let current: OutboundPolicy = { allowPrivate: false };

/** Sets the process-wide policy (the appliance does it once from `ALLOW_PRIVATE_STORE_URLS`). */
export function setOutboundPolicy(policy: OutboundPolicy): void {
  current = policy;
}

export function outboundPolicy(): OutboundPolicy {
  return current;
}

function reasonFor(kind: AddressClass): string {
  return kind === 'loopback' || kind === 'private'
    ? `a ${kind} address (set ALLOW_PRIVATE_STORE_URLS=true for a store on the private network)`
    : `a ${kind} address`;
}

/**
 * The reason a URL may not be called, judged without DNS (scheme, metadata names, `localhost`,
 * IP literals); `undefined` when nothing is wrong on its face.
 */
export function outboundUrlProblem(url: string, policy: OutboundPolicy = current): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `scheme ${u.protocol} is not http(s)`;
  const host = u.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (METADATA_HOSTS.has(host)) return 'a cloud metadata host';
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return allowed('loopback', policy) ? undefined : reasonFor('loopback');
  }
  if (isIP(host) !== 0) {
    const kind = classifyAddress(host);
    return allowed(kind, policy) ? undefined : reasonFor(kind);
  }
  return undefined;
}

/** Checks a URL and every address its host resolves to; throws {@link OutboundAddressRefusedError}. Unresolvable hosts pass (the request fails on its own). */
export async function checkOutboundUrl(url: string, policy: OutboundPolicy = current): Promise<void> {
  const problem = outboundUrlProblem(url, policy);
  const host = safeHost(url);
  if (problem) throw new OutboundAddressRefusedError(host, problem);
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0 || host === 'localhost') return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    return;
  }
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (!allowed(kind, policy)) throw new OutboundAddressRefusedError(host, `it resolves to ${reasonFor(kind)}`);
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A `lookup` for sockets (undici `connect.lookup`) that refuses addresses the policy does not
 * allow, at connection time.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as { address: string; family: number }[];
    for (const a of list) {
      const kind = classifyAddress(a.address);
      if (!allowed(kind, current)) {
        return callback(new OutboundAddressRefusedError(hostname, `it resolves to ${reasonFor(kind)}`), '', 0);
      }
    }
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    const first = list[0];
    return first
      ? callback(null, first.address, first.family)
      : callback(new Error(`no address for ${hostname}`), '', 0);
  });
};

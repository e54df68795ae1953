/**
 * The platforms deliver webhooks over https only. The stand-ins also accept plain http to a
 * loopback host (127.0.0.1, ::1, localhost), so the demo and the tests can point them at a local
 * appliance; anything else over http is refused as the platform refuses it.
 */
export function acceptsDestination(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return 'Address is invalid';
  }
  if (url.protocol === 'https:') return undefined;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && loopback) return undefined;
  return `Address protocol ${url.protocol}// is not supported`;
}

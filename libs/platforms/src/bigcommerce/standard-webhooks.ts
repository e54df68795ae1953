import { constantTimeEqual, decodeBase64Strict, hmacSha256 } from '../common';

/** Default tolerance between `webhook-timestamp` and our clock (Standard Webhooks: 5 minutes). */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

/**
 * Signing key from a secret: `whsec_<base64>` (Standard Webhooks) is base64-decoded; any other
 * secret (e.g. an app's client secret) is used as its UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  if (secret.startsWith('whsec_')) return decodeBase64Strict(secret.slice('whsec_'.length));
  return secret.length > 0 ? Buffer.from(secret, 'utf8') : undefined;
}

export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: Buffer): string {
  const key = standardWebhooksKey(secret);
  if (key === undefined) throw new Error('unusable signing secret');
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`, 'utf8'), body]);
  return `v1,${hmacSha256(key, signed).toString('base64')}`;
}

/**
 * Verifies `webhook-signature` (space-separated `v1,<base64>` entries) over
 * `<webhook-id>.<webhook-timestamp>.<raw body>` against every secret, and rejects timestamps more
 * than `toleranceSeconds` away from `now` (replays, R17).
 */
export function verifyStandardWebhook(
  input: { id?: string; timestamp?: string; signature?: string; body: Buffer },
  secrets: readonly string[],
  now: Date,
  toleranceSeconds = STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
): boolean {
  const { id, timestamp, signature, body } = input;
  if (id === undefined || timestamp === undefined || signature === undefined) return false;
  if (!/^\d{1,12}$/.test(timestamp) || id.length > 256) return false;
  const ts = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return false;
  const given = signature
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'))
    .map((s) => decodeBase64Strict(s.slice(3)))
    .filter((b): b is Buffer => b !== undefined && b.length === 32);
  if (given.length === 0) return false;
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  let ok = false;
  for (const secret of secrets) {
    const key = standardWebhooksKey(secret);
    if (key === undefined || key.length === 0) continue;
    const expected = hmacSha256(key, signed);
    for (const g of given) ok = constantTimeEqual(expected, g) || ok;
  }
  return ok;
}

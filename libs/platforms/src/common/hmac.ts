import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacSha256(key: string | Buffer, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time comparison of raw bytes; a length mismatch is simply `false`. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Canonical base64 only (no URL alphabet, no whitespace); `undefined` otherwise. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * Checks `base64(HMAC-SHA256(secret, body))` (Shopify, WooCommerce) against every secret, so a
 * rotation window can hold the old and the new one. Every secret is tried (no early exit).
 */
export function verifyBase64HmacSha256(
  body: Buffer,
  signature: string | undefined,
  secrets: readonly string[],
): boolean {
  if (signature === undefined) return false;
  const given = decodeBase64Strict(signature.trim());
  if (given === undefined || given.length !== 32) return false;
  let ok = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    ok = constantTimeEqual(hmacSha256(secret, body), given) || ok;
  }
  return ok;
}

/** Constant-time equality of a shared-secret header (BigCommerce hooks created the older way). */
export function verifySharedSecretHeader(value: string | undefined, secrets: readonly string[]): boolean {
  if (value === undefined || value.length === 0) return false;
  // Compare digests so differing lengths do not leak through an early return.
  const given = hmacSha256('reclaim-shared-secret', value);
  let ok = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    ok = constantTimeEqual(hmacSha256('reclaim-shared-secret', secret), given) || ok;
  }
  return ok;
}

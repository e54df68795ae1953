/**
 * Personal data (email, phone, names, address, IP) never appears in an event in clear text.
 * The application seals it with the subject's data key (libs/privacy: AES-256-GCM, the shop id
 * and subject bound as additional data) and events carry this opaque value. Deleting the
 * subject's key (crypto-shredding) makes every copy unreadable, including in old events.
 * All binary fields are base64 strings, so the value is plain JSON.
 *
 * Algorithms: `aes-256-gcm/v2` (the JSON text encrypted) and `deflate+aes-256-gcm/v2` (the JSON
 * text deflate-compressed, then encrypted: used for large values such as raw webhook bodies).
 * Version 2 names the subject key it was sealed with (`key`, a random id of that key, bound as
 * additional data): after a customer was redacted and came back, values sealed under the
 * shredded key read as erased, never as tampered (their key is gone; the customer's new key has
 * another id). Version 1 values (written before keys had ids) carry no `key` and mean the key id
 * `v1` (every key created before ids existed); they are still read, never written.
 */
export interface SealedValue {
  readonly $sealed: SealedValueAlgorithm;
  /** The key subject, normally a customer key (`e-…`, `t-…`, `p-…`); never clear-text personal data. */
  readonly subject: string;
  /** 12-byte initialisation vector, base64. */
  readonly iv: string;
  /** Ciphertext of the JSON value, base64. */
  readonly ct: string;
  /** 16-byte GCM authentication tag, base64. */
  readonly tag: string;
  /** The id of the subject key this was sealed with (v2 algorithms: 16 hex digits; absent in v1 = the key id `v1`). */
  readonly key?: string;
}

export const SEALED_VALUE_ALGORITHM = 'aes-256-gcm/v1' as const;
export const SEALED_VALUE_ALGORITHM_DEFLATE = 'deflate+aes-256-gcm/v1' as const;
export const SEALED_VALUE_ALGORITHM_V2 = 'aes-256-gcm/v2' as const;
export const SEALED_VALUE_ALGORITHM_DEFLATE_V2 = 'deflate+aes-256-gcm/v2' as const;
export const SEALED_VALUE_ALGORITHMS = [
  SEALED_VALUE_ALGORITHM,
  SEALED_VALUE_ALGORITHM_DEFLATE,
  SEALED_VALUE_ALGORITHM_V2,
  SEALED_VALUE_ALGORITHM_DEFLATE_V2,
] as const;
export type SealedValueAlgorithm = (typeof SEALED_VALUE_ALGORITHMS)[number];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const KEY_ID = /^[0-9a-f]{16}$/;

export function isSealedValue(value: unknown): value is SealedValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (SEALED_VALUE_ALGORITHMS as readonly unknown[]).includes(v.$sealed) &&
    typeof v.subject === 'string' &&
    v.subject.length > 0 &&
    ['iv', 'ct', 'tag'].every((k) => typeof v[k] === 'string' && BASE64.test(v[k] as string)) &&
    (v.$sealed === SEALED_VALUE_ALGORITHM || v.$sealed === SEALED_VALUE_ALGORITHM_DEFLATE
      ? v.key === undefined
      : typeof v.key === 'string' && KEY_ID.test(v.key))
  );
}

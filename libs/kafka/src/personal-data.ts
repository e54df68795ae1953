/**
 * Keeps personal data out of Kafka payloads (R21). Events never hold personal data in clear text:
 * it is sealed (`{ $sealed: 'aes-256-gcm/v1', subject, iv, ct, tag }`) with a per-customer key that
 * crypto-shredding deletes. The relay keeps sealed values as ciphertext (reduced to exactly those five
 * fields) and removes, as a second line of defence, any clear-text value under a key whose name says
 * personal data (email, phone, name, address, ip, …). Removal, not refusal: one bad event must not
 * stall the relay; the removed paths (never the values) are reported so the producer can be fixed.
 */
import { isSealedValue } from '@reclaim/domain';

export { isSealedValue, SEALED_VALUE_ALGORITHMS, type SealedValue } from '@reclaim/domain';

/** Last name token that marks personal data wherever it appears (`billingEmail`, `browser_ip`, `address2`). */
const PERSONAL_LAST_TOKENS = new Set([
  'email',
  'emails',
  'phone',
  'phones',
  'mobile',
  'msisdn',
  'address',
  'addresses',
  'street',
  'ip',
  'ips',
  'surname',
  'birthday',
  'birthdate',
  'dob',
  'zip',
  'postcode',
  'ssn',
]);

/** Whole names (tokens joined) that are personal data. `name` alone counts; `productName` does not. */
const PERSONAL_NAMES = new Set([
  'name',
  'names',
  'firstname',
  'lastname',
  'fullname',
  'middlename',
  'givenname',
  'familyname',
  'customername',
  'billingname',
  'shippingname',
  'contactname',
  'recipientname',
  'username',
  'displayname',
  'emailaddress',
  'phonenumber',
  'mobilenumber',
  'streetaddress',
  'ipaddress',
  'postalcode',
  'zipcode',
  'dateofbirth',
  'useragent',
]);

export function nameTokens(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0)
    .map((t) => t.replace(/[0-9]+$/, ''))
    .filter((t) => t.length > 0);
}

export function isPersonalDataKey(key: string): boolean {
  const tokens = nameTokens(key);
  if (tokens.length === 0) return false;
  if (PERSONAL_NAMES.has(tokens.join(''))) return true;
  return PERSONAL_LAST_TOKENS.has(tokens[tokens.length - 1]);
}

export interface ScrubResult {
  readonly value: unknown;
  /** JSON-pointer-like paths of removed fields, e.g. `/customer/email`. Never the values. */
  readonly removed: readonly string[];
}

/**
 * Returns a copy of `value` where sealed values are kept (reduced to their fields: five, and `key` (the subject key id) from v2 on), and clear-text
 * values under personal-data keys are removed. Booleans and null under such keys (`hasEmail: true`) stay:
 * they say nothing about the person.
 */
export function scrubPersonalData(value: unknown): ScrubResult {
  const removed: string[] = [];
  const out = scrub(value, '', removed);
  return { value: out, removed };
}

function scrub(value: unknown, path: string, removed: string[]): unknown {
  if (isSealedValue(value)) {
    const { $sealed, subject, iv, ct, tag, key } = value;
    return key === undefined ? { $sealed, subject, iv, ct, tag } : { $sealed, subject, iv, ct, tag, key };
  }
  if (Array.isArray(value)) return value.map((v, i) => scrub(v, `${path}/${i}`, removed));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const childPath = `${path}/${escapePointer(k)}`;
      if (isPersonalDataKey(k) && carriesClearText(v)) {
        removed.push(childPath);
        continue;
      }
      out[k] = scrub(v, childPath, removed);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** True when the value (or something inside it) is readable data rather than ciphertext or a flag. */
function carriesClearText(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  if (isSealedValue(v)) return false;
  if (Array.isArray(v)) return v.some(carriesClearText);
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).some(carriesClearText);
  return true;
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

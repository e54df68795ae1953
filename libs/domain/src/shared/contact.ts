import type { ContactDetails } from '../inbound/inbound-types';

/**
 * What the domain may know about a contact without seeing it: which channels can reach the
 * shopper. `sms` is true only for a phone that is valid E.164; `email` for a plausible address.
 */
export interface ContactReach {
  readonly email: boolean;
  readonly sms: boolean;
}

export const NO_REACH: ContactReach = Object.freeze({ email: false, sms: false });

/** E.164: "+", a non-zero country digit, at most 15 digits in all, nothing else (no spaces or dashes). */
export function isE164(phone: string | undefined | null): boolean {
  return typeof phone === 'string' && /^\+[1-9]\d{1,14}$/.test(phone);
}

/**
 * A plausible email: one "@", non-empty local part and domain, no whitespace. Internationalised
 * addresses (RFC 6531) are allowed; real validation is the provider's bounce.
 */
export function isPlausibleEmail(email: string | undefined | null): boolean {
  if (typeof email !== 'string') return false;
  const e = email.trim();
  return e.length <= 320 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(e);
}

/** Computed by the application from the clear-text contact, before it seals it. */
export function reachFor(contact: ContactDetails | undefined): ContactReach {
  return { email: isPlausibleEmail(contact?.email), sms: isE164(contact?.phone) };
}

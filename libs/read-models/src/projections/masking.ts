/**
 * Masked forms of a contact for the analysts (read.customer_contacts): never the clear text, only
 * enough to recognise a record — `a***@example.com`, `+44******1234`, `JD`. Unicode-safe: the first
 * character kept is a whole grapheme (emoji, combining marks), bidi controls and invisible characters
 * are removed (no RTL spoofing of the masked value; ZWJ/ZWNJ stay, they belong to emoji and scripts), internationalised domains are kept as sent.
 */
const INVISIBLE = /[\u00AD\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu;
const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

function clean(value: string): string {
  return value.normalize('NFC').replace(INVISIBLE, '').trim();
}

function firstGrapheme(value: string): string | null {
  for (const { segment } of segmenter.segment(value)) return segment;
  return null;
}

/** `alice@example.com` → `a***@example.com` (the local part's length is not revealed). */
export function maskEmail(email: unknown): string | null {
  if (typeof email !== 'string') return null;
  const e = clean(email);
  const at = e.lastIndexOf('@');
  if (at <= 0 || at === e.length - 1 || e.length > 320) return null;
  const domain = e.slice(at + 1).toLowerCase();
  if (/[\s@]/u.test(domain) || !domain.includes('.')) return null;
  const first = firstGrapheme(e.slice(0, at));
  return first === null ? null : `${first}***@${domain}`;
}

/**
 * `+447700901234` → `+44******1234`: the first two and last four digits of a number of at least ten
 * digits, the first one and last two of a shorter one (at least seven), else null.
 */
export function maskPhone(phone: unknown): string | null {
  if (typeof phone !== 'string') return null;
  const p = clean(phone);
  // Digits of other scripts are not interpreted: such a value is not masked at all.
  if (/[^\P{Nd}0-9]/u.test(p)) return null;
  const digits = p.replace(/[^0-9]/g, '');
  if (digits.length < 7 || digits.length > 15) return null;
  const [head, tail] = digits.length >= 10 ? [2, 4] : [1, 2];
  const plus = p.startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, head)}${'*'.repeat(digits.length - head - tail)}${digits.slice(-tail)}`;
}

/** `Jane`, `Doe` → `JD`: the first grapheme of each name given, upper-cased where the script has case. */
export function nameInitials(firstName: unknown, lastName: unknown): string | null {
  const initials = [firstName, lastName]
    .map((n) => (typeof n === 'string' ? firstGrapheme(clean(n)) : null))
    .filter((g): g is string => g !== null)
    .map((g) => g.toLocaleUpperCase());
  return initials.length > 0 ? initials.join('') : null;
}

export interface MaskedContact {
  readonly email_masked: string | null;
  readonly phone_masked: string | null;
  readonly name_initials: string | null;
}

/** Masks an opened contact (`ContactDetails`); anything else masks to nulls. */
export function maskContact(contact: unknown): MaskedContact {
  const c = (typeof contact === 'object' && contact !== null ? contact : {}) as Record<string, unknown>;
  return {
    email_masked: maskEmail(c.email),
    phone_masked: maskPhone(c.phone),
    name_initials: nameInitials(c.firstName, c.lastName),
  };
}

import { maskContact, maskEmail, maskPhone, nameInitials } from './masking';

describe('contact masking (read.customer_contacts)', () => {
  it('keeps one grapheme of the local part and the domain, never the length', () => {
    expect(maskEmail('alice@example.com')).toBe('a***@example.com');
    expect(maskEmail('a@Example.COM')).toBe('a***@example.com');
    expect(maskEmail('  bob.smith+tag@example.co.uk ')).toBe('b***@example.co.uk');
    expect(maskEmail('👩‍👩‍👧‍👦family@example.com')).toBe('👩‍👩‍👧‍👦***@example.com');
    expect(maskEmail('e\u0301lodie@example.fr')).toBe('é***@example.fr');
    expect(maskEmail('用户@例子.广告')).toBe('用***@例子.广告');
    expect(maskEmail('иван@пример.рф')).toBe('и***@пример.рф');
    expect(maskEmail('\u202Eevil@example.com')).toBe('e***@example.com');
    expect(maskEmail('محمد@مثال.com')).toBe('م***@مثال.com');
    for (const bad of ['', 'no-at-sign', '@example.com', 'x@', 'x@localhost', 'x@exa mple.com', 42, null, undefined]) {
      expect(maskEmail(bad)).toBeNull();
    }
  });

  it('keeps the first two and last four digits of a phone, fewer of a short one', () => {
    expect(maskPhone('+447700901234')).toBe('+44******1234');
    expect(maskPhone('+1 (415) 555-0100')).toBe('+14*****0100');
    expect(maskPhone('\u200F+33612345678')).toBe('+33*****5678');
    expect(maskPhone('+3581234')).toBe('+3****34');
    expect(maskPhone('12345')).toBeNull();
    expect(maskPhone('+٤٤٧٧٠٠٩٠١٢٣٤')).toBeNull();
    expect(maskPhone('1234567890123456')).toBeNull();
    expect(maskPhone(undefined)).toBeNull();
  });

  it('reduces names to initials, whatever the script', () => {
    expect(nameInitials('jane', 'doe')).toBe('JD');
    expect(nameInitials('Élodie', undefined)).toBe('É');
    expect(nameInitials('محمد', 'علي')).toBe('مع');
    expect(nameInitials('🦄 Uni', 'Corn')).toBe('🦄C');
    expect(nameInitials('\u202Bאבי', 'כהן')).toBe('אכ');
    expect(nameInitials('', '  ')).toBeNull();
    expect(nameInitials(undefined, undefined)).toBeNull();
  });

  it('never returns the clear text of a contact', () => {
    const contact = {
      email: 'secret.person@example.com',
      phone: '+447700900123',
      firstName: 'Secret',
      lastName: 'Person',
    };
    const masked = maskContact(contact);
    expect(masked).toEqual({ email_masked: 's***@example.com', phone_masked: '+44******0123', name_initials: 'SP' });
    const text = JSON.stringify(masked);
    for (const clear of ['secret.person', '7700900123', 'Secret', 'Person']) expect(text).not.toContain(clear);
    expect(maskContact(null)).toEqual({ email_masked: null, phone_masked: null, name_initials: null });
  });
});

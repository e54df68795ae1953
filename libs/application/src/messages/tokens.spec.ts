import { randomBytes } from 'node:crypto';
import { InvalidTokenError, MessageTokens, TokenClaimsError, type MessageLinkSubject } from './tokens';

const DAY = 24 * 60 * 60 * 1000;
const subject: MessageLinkSubject = {
  shopId: '6f1c2d0e-8a51-4a9b-9a43-2b4f3d3c1a10',
  recoveryId: 'recovery-6f1c2d0e-8a51-4a9b-9a43-2b4f3d3c1a10-cart-42',
  step: 2,
  channel: 'email',
  customerKey: 'e-3b1f0c9a7d',
};

function setup(start = new Date('2026-01-10T12:00:00Z')) {
  let now = start;
  const key = randomBytes(32);
  const tokens = new MessageTokens(key, { clock: () => now });
  return { tokens, key, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof InvalidTokenError) return err.reason;
    throw err;
  }
}

describe('MessageTokens', () => {
  it('round-trips the claims of each purpose', () => {
    const { tokens } = setup();
    const u = tokens.verify('unsubscribe', tokens.unsubscribe(subject));
    expect(u).toEqual({
      ...subject,
      purpose: 'unsubscribe',
      issuedAt: new Date('2026-01-10T12:00:00Z'),
      expiresAt: new Date('2026-03-11T12:00:00Z'),
    });
    expect(tokens.verify('open', tokens.open(subject))).toMatchObject({ ...subject, purpose: 'open' });
    const target = 'https://lamps.example/checkouts/c1?discount=SAVE10';
    expect(tokens.verify('click', tokens.click(subject, target))).toMatchObject({
      ...subject,
      purpose: 'click',
      target,
    });
  });

  it('is base64url and carries no email address', () => {
    const { tokens } = setup();
    const token = tokens.click(subject, 'https://lamps.example/cart');
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(() => tokens.unsubscribe({ ...subject, customerKey: 'shopper@example.com' })).toThrow(TokenClaimsError);
    expect(() => tokens.unsubscribe({ ...subject, customerKey: 'e-a@b' })).toThrow(TokenClaimsError);
  });

  it('refuses a token whose payload or signature was changed (R24)', () => {
    const { tokens } = setup();
    const token = tokens.unsubscribe(subject);
    const [v, payload, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, s: 'another-shop' })).toString('base64url');
    expect(refusal(() => tokens.verify('unsubscribe', `${v}.${forged}.${sig}`))).toBe('bad-signature');
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(refusal(() => tokens.verify('unsubscribe', `${v}.${payload}.${flipped}`))).toBe('bad-signature');
    expect(refusal(() => tokens.verify('unsubscribe', `${v}.${payload}.${sig.slice(0, 10)}`))).toBe('bad-signature');
    expect(refusal(() => tokens.verify('unsubscribe', `v2.${payload}.${sig}`))).toBe('malformed');
    expect(refusal(() => tokens.verify('unsubscribe', 'garbage'))).toBe('malformed');
    expect(refusal(() => tokens.verify('unsubscribe', ''))).toBe('malformed');
  });

  it('refuses a token signed with another master key', () => {
    const a = setup();
    const b = setup();
    expect(refusal(() => b.tokens.verify('unsubscribe', a.tokens.unsubscribe(subject)))).toBe('bad-signature');
  });

  it('binds a token to its purpose', () => {
    const { tokens } = setup();
    expect(refusal(() => tokens.verify('unsubscribe', tokens.open(subject)))).toBe('bad-signature');
    expect(refusal(() => tokens.verify('click', tokens.open(subject)))).toBe('bad-signature');
    expect(refusal(() => tokens.verify('open', tokens.click(subject, 'https://lamps.example/')))).toBe('bad-signature');
  });

  it('keeps unsubscribe links valid for 60 days and click links for 90, then refuses them', () => {
    const { tokens, advance } = setup();
    const unsubscribe = tokens.unsubscribe(subject);
    const click = tokens.click(subject, 'https://lamps.example/');
    advance(60 * DAY - 1000);
    expect(tokens.verify('unsubscribe', unsubscribe).shopId).toBe(subject.shopId);
    advance(1000);
    expect(refusal(() => tokens.verify('unsubscribe', unsubscribe))).toBe('expired');
    expect(tokens.verify('click', click).target).toBe('https://lamps.example/');
    advance(30 * DAY);
    expect(refusal(() => tokens.verify('click', click))).toBe('expired');
  });

  it('only signs http(s) click targets', () => {
    const { tokens } = setup();
    for (const target of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', '/relative', 'not a url']) {
      expect(() => tokens.click(subject, target)).toThrow(TokenClaimsError);
    }
    expect(() => tokens.sign('unsubscribe', subject, 'https://lamps.example/')).toThrow(TokenClaimsError);
  });

  it('needs a 32-byte master key', () => {
    expect(() => new MessageTokens(randomBytes(16))).toThrow('32 bytes');
  });
});

describe('MessageTokens: notify me (a sold-out line)', () => {
  it('carries the line id, verifies only as a notify token, and refuses a line id that is not an id', () => {
    const { tokens } = setup();
    const token = tokens.notify(subject, 'line-1:abc');
    expect(tokens.verify('notify', token)).toMatchObject({ ...subject, purpose: 'notify', lineId: 'line-1:abc' });
    expect(refusal(() => tokens.verify('click', token))).toBe('bad-signature');
    expect(() => tokens.notify(subject, 'not an id')).toThrow(TokenClaimsError);
    expect(() => tokens.sign('open', subject, undefined, 'line-1')).toThrow(TokenClaimsError);
    expect(tokens.verify('open', tokens.open(subject))).not.toHaveProperty('lineId');
  });
});

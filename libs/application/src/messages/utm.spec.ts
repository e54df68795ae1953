import { randomBytes } from 'node:crypto';
import { MessageLinks } from './links';
import { TemplateMessageRenderer, type RenderMessageInput } from './renderer';
import { MessageTokens } from './tokens';
import { DEFAULT_UTM, utmParametersFor, utmSettingsOf, validateUtmOverrides, withUtm } from './utm';

const SHOP = '6f1c2d0e-8a51-4a9b-9a43-2b4f3d3c1a10';
const tokens = new MessageTokens(randomBytes(32));
const links = new MessageLinks('https://reclaim.example', tokens);
const renderer = new TemplateMessageRenderer();

function message(channel: 'email' | 'sms', checkoutUrl: string, overrides = utmSettingsOf(undefined)) {
  const step = 2;
  const templateId = channel === 'email' ? 'welcome-2' : 'premium-1';
  const forMessage = links.forMessage({
    shopId: SHOP,
    recoveryId: `recovery-${SHOP}-c1`,
    step,
    channel,
    customerKey: 'e-9f86d081884c7d65',
  });
  const utm = utmParametersFor(overrides, { channel, sequenceId: 'spring-sale', step, templateId, kind: 'sales' });
  const input: RenderMessageInput = {
    templateId,
    kind: 'sales',
    channel,
    locale: 'en-US',
    step,
    shop: { id: SHOP, name: 'Lamp Co', domain: 'lamps.example', postalAddress: '12 Harbour Road', currency: 'USD' },
    items: [{ title: 'Desk lamp', quantity: 1, unitPrice: '19.99', priceChanged: false }],
    cartValue: '19.99',
    currency: 'USD',
    discount: { code: 'SAVE10', percent: 10, expiresAt: '2026-12-01T10:00:00Z' },
    checkoutUrl,
    unsubscribeUrl: forMessage.unsubscribeUrl,
    trackingPixelUrl: forMessage.trackingPixelUrl,
    ...(utm !== undefined ? { utm } : {}),
    clickUrl: forMessage.clickUrl,
  };
  return renderer.render(input);
}

/** The destinations signed into the click links of a rendered body. */
function clickTargets(body: string): URL[] {
  const found = [...body.matchAll(/https:\/\/reclaim\.example\/t\/c\/([A-Za-z0-9._-]+)/g)];
  return found.map((m) => new URL(tokens.verify('click', m[1]).target as string));
}

describe('UTM parameters', () => {
  it('are reclaim / channel / <sequence>-step-<n> / template by default', () => {
    const params = utmParametersFor(DEFAULT_UTM, {
      channel: 'sms',
      sequenceId: 'premium',
      step: 3,
      templateId: 'premium-3',
      kind: 'sales',
    });
    expect(params).toEqual({
      utm_source: 'reclaim',
      utm_medium: 'sms',
      utm_campaign: 'premium-step-3',
      utm_content: 'premium-3',
    });
    expect(
      utmParametersFor(DEFAULT_UTM, { channel: 'email', sequenceId: undefined, step: 0, templateId: 't', kind: 'help' })
        ?.utm_campaign,
    ).toBe('default-step-0');
  });

  it('follow the shop: off, own source, medium and patterns, no content', () => {
    expect(
      utmParametersFor(utmSettingsOf({ enabled: false }), {
        channel: 'email',
        sequenceId: 's',
        step: 1,
        templateId: 't',
        kind: 'sales',
      }),
    ).toBeUndefined();
    const own = utmSettingsOf({
      source: 'cart-mails',
      medium: { email: 'e-mail' },
      campaign: 'recovery_{sequence}_{channel}_{step}',
      content: null,
    });
    expect(
      utmParametersFor(own, { channel: 'email', sequenceId: 'vip', step: 2, templateId: 'vip-2', kind: 'help' }),
    ).toEqual({ utm_source: 'cart-mails', utm_medium: 'e-mail', utm_campaign: 'recovery_vip_email_2' });
    expect(own.medium.sms).toBe('sms');
  });

  it("keep the merchant's own utm_* on a URL and add only the missing ones", () => {
    const url = withUtm(new URL('https://lamps.example/cart?utm_source=newsletter&x=1'), {
      utm_source: 'reclaim',
      utm_medium: 'email',
    });
    expect(url.searchParams.getAll('utm_source')).toEqual(['newsletter']);
    expect(url.searchParams.get('utm_medium')).toBe('email');
    expect(url.searchParams.get('x')).toBe('1');
  });

  it('settings are validated field by field', () => {
    expect(
      validateUtmOverrides({ enabled: true, source: 'x', medium: { sms: 'text' }, campaign: '{sequence}' }),
    ).toEqual([]);
    expect(validateUtmOverrides({ content: null })).toEqual([]);
    const errors = validateUtmOverrides({
      enabled: 'yes',
      source: '',
      medium: { fax: 'f', email: 'a'.repeat(101) },
      campaign: '{cart}-{step',
      content: '{step}{',
      extra: 1,
    });
    expect(errors.map((e) => e.field).sort()).toEqual(
      [
        'utm.campaign',
        'utm.campaign',
        'utm.content',
        'utm.enabled',
        'utm.extra',
        'utm.medium.email',
        'utm.medium.fax',
        'utm.source',
      ].sort(),
    );
    expect(validateUtmOverrides([])).toEqual([{ field: 'utm', message: expect.stringContaining('object') }]);
    expect(validateUtmOverrides({ source: 'a{sequence}' })[0]).toEqual({
      field: 'utm.source',
      message: 'takes no placeholders',
    });
  });

  it('are on every shop link of the rendered e-mail, inside the signed click target', async () => {
    const out = await message('email', 'https://lamps.example/checkouts/c1?token=abc');
    for (const body of [out.html.replace(/&#x3D;/g, '='), out.text]) {
      const targets = clickTargets(body);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target.host).toBe('lamps.example');
        expect(Object.fromEntries([...target.searchParams].filter(([k]) => k.startsWith('utm_')))).toEqual({
          utm_source: 'reclaim',
          utm_medium: 'email',
          utm_campaign: 'spring-sale-step-2',
          utm_content: 'welcome-2',
        });
        expect(target.searchParams.get('token')).toBe('abc');
        expect(target.searchParams.get('discount')).toBe('SAVE10');
      }
    }
    // The appliance's own links are not tagged.
    expect(out.headers['List-Unsubscribe']).not.toContain('utm_');
  });

  it('are on the rendered SMS link, and the merchant’s own campaign is kept', async () => {
    const out = await message('sms', 'https://lamps.example/cart?utm_campaign=spring');
    const [target, ...more] = clickTargets(out.text);
    expect(more).toEqual([]);
    expect(target.searchParams.get('utm_source')).toBe('reclaim');
    expect(target.searchParams.get('utm_medium')).toBe('sms');
    expect(target.searchParams.getAll('utm_campaign')).toEqual(['spring']);
    expect(target.searchParams.get('utm_content')).toBe('premium-1');
  });

  it('are left out when the shop switched them off', async () => {
    const out = await message('sms', 'https://lamps.example/cart', utmSettingsOf({ enabled: false }));
    const [target] = clickTargets(out.text);
    expect(target.href).toBe('https://lamps.example/cart?discount=SAVE10');
  });
});

import { DEFAULT_EMAIL_TEMPLATES, DEFAULT_SMS_TEMPLATES } from './default-templates';
import { RenderInputError, SMS_MAX_CHARS, TemplateMessageRenderer, type RenderMessageInput } from './renderer';
import { TemplateCache, validateTemplate, type EmailTemplateSource, type TemplateSource } from './template-engine';

const CLICK_BASE = 'https://reclaim.example/t/c/';

function input(overrides: Partial<RenderMessageInput> = {}): RenderMessageInput {
  return {
    templateId: 'welcome-0',
    kind: 'sales',
    channel: 'email',
    locale: 'en-US',
    shop: {
      id: 'shop-1',
      name: 'Lamp Co',
      domain: 'lamps.example',
      postalAddress: '12 Harbour Road, Bristol BS1 4AA, United Kingdom',
      currency: 'USD',
    },
    customerName: 'Ada',
    items: [
      {
        title: 'Desk lamp',
        variantTitle: 'Brass',
        imageUrl: 'https://cdn.example.com/lamp.png',
        quantity: 2,
        unitPrice: '19.99',
        priceChanged: false,
      },
      { title: 'Bulb', quantity: 1, unitPrice: '4.50', priceChanged: true },
    ],
    cartValue: '44.48',
    currency: 'USD',
    discount: { code: 'SAVE10', percent: 10, expiresAt: '2026-12-01T10:00:00Z' },
    checkoutUrl: 'https://lamps.example/checkouts/c1?token=abc',
    unsubscribeUrl: 'https://reclaim.example/u/v1.unsub.sig',
    trackingPixelUrl: 'https://reclaim.example/t/o/v1.open.sig.gif',
    clickUrl: (target) => CLICK_BASE + encodeURIComponent(target),
    ...overrides,
  };
}

const renderer = new TemplateMessageRenderer();

describe('TemplateMessageRenderer: default templates', () => {
  it.each([...DEFAULT_EMAIL_TEMPLATES.keys()])('%s renders everything R25 asks for', async (templateId) => {
    const kind = templateId.startsWith('help-') ? 'help' : 'sales';
    const out = await renderer.render(input({ templateId, kind }));
    expect(out.template).toEqual({ id: templateId, origin: 'default' });
    expect(out.warnings).toEqual([]);
    expect(out.subject.length).toBeGreaterThan(0);
    expect(out.subject).not.toMatch(/[\r\n]/);
    expect(out.headers).toEqual({
      'List-Unsubscribe': '<https://reclaim.example/u/v1.unsub.sig>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    const checkout = CLICK_BASE + encodeURIComponent('https://lamps.example/checkouts/c1?token=abc&discount=SAVE10');
    for (const body of [out.html, out.text]) {
      expect(body).toContain('12 Harbour Road, Bristol BS1 4AA, United Kingdom');
      expect(body).toContain('https://reclaim.example/u/v1.unsub.sig');
      expect(body).toContain('$19.99');
      expect(body).toContain('$39.98');
      expect(body).toContain('$4.50');
      expect(body).toContain('$44.48');
      expect(body).toContain('SAVE10');
      expect(body).toContain('Desk lamp');
      expect(body).toContain('Brass');
    }
    expect(out.text).toContain(checkout);
    expect(out.html).toContain(`href="${checkout.replace(/=/g, '&#x3D;')}"`);
    expect(out.html).toContain('src="https://cdn.example.com/lamp.png"');
    expect(out.html).toContain('src="https://reclaim.example/t/o/v1.open.sig.gif"');
    expect(out.html).toMatch(/<a href="https:\/\/reclaim\.example\/u\/v1\.unsub\.sig"[^>]*>Unsubscribe<\/a>/);
  });

  it.each(['sales', 'help'] as const)('the %s SMS renders as text with the link and STOP', async (kind) => {
    const out = await renderer.render(
      input({ channel: 'sms', kind, templateId: kind === 'help' ? 'help-1' : 'premium-1' }),
    );
    expect(out.subject).toBe('');
    expect(out.html).toBe('');
    expect(out.headers).toEqual({});
    expect(out.text).toContain('Lamp Co');
    expect(out.text).toContain(CLICK_BASE);
    expect(out.text).toContain('Reply STOP');
    expect(out.text).not.toContain('v1.open.sig');
  });

  it('renders without the optional parts (no name, no discount, no pixel, no images)', async () => {
    const out = await renderer.render(
      input({
        templateId: 'premium-2',
        customerName: undefined,
        discount: undefined,
        trackingPixelUrl: undefined,
        items: [{ title: 'Lamp', quantity: 1, unitPrice: '200', priceChanged: false }],
        cartValue: '200',
      }),
    );
    expect(out.html).toContain('Hi there,');
    expect(out.html).toContain('$200.00');
    expect(out.html).not.toContain('% off');
    expect(out.html).not.toContain('discount&#x3D;');
    expect(out.text).toContain(CLICK_BASE + encodeURIComponent('https://lamps.example/checkouts/c1?token=abc'));
  });

  it('falls back by kind and step for an unknown template id', async () => {
    const out = await renderer.render(input({ templateId: 'vip-2' }));
    expect(out.template.origin).toBe('fallback');
    expect(out.warnings).toContain('template-fallback');
    expect(out.subject).toBe((await renderer.render(input({ templateId: 'welcome-2' }))).subject);
  });
});

describe('TemplateMessageRenderer: customer data (R11, R23)', () => {
  it('escapes markup in names and titles', async () => {
    const out = await renderer.render(
      input({
        customerName: '<script>alert(1)</script>',
        items: [{ title: '"><img src=x onerror=alert(1)>', quantity: 1, unitPrice: '1.00', priceChanged: false }],
        cartValue: '1.00',
      }),
    );
    expect(out.html).not.toContain('<script>alert(1)</script>');
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.html).not.toContain('<img src=x');
    expect(out.html).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(out.text).toContain('<script>alert(1)</script>');
  });

  it('prints a customer name containing template syntax literally, never compiling it', async () => {
    const name = '{{shop.postalAddress}} {{#each items}}X{{/each}} {{constructor.constructor}}';
    const out = await renderer.render(input({ customerName: name, templateId: 'welcome-1' }));
    expect(out.text).toContain(`Hi ${name},`);
    expect(out.html).toContain(name);
    expect(out.subject).toBe(`${name}, still thinking it over?`);
  });

  it('keeps emoji, right-to-left text, zero-width characters and 5 KB names exactly', async () => {
    const rtl = 'مرحبا بالعالم שלום';
    const zeroWidth = 'Zo\u200be\u200d\u2060y\ufeff';
    const emoji = '👩🏽‍💻🇯🇵';
    const long = 'Ω'.repeat(5 * 1024);
    for (const name of [rtl, zeroWidth, emoji, long]) {
      const out = await renderer.render(
        input({
          customerName: name,
          items: [{ title: `${emoji} ${rtl}`, quantity: 1, unitPrice: '1', priceChanged: false }],
          cartValue: '1',
        }),
      );
      expect(out.text).toContain(`Hi ${name},`);
      expect(out.html).toContain(`<span dir="auto">${name}</span>`);
      expect(out.html).toContain(`${emoji} ${rtl}`);
    }
  });

  it('drops product images that point at internal addresses (R22)', async () => {
    const out = await renderer.render(
      input({
        items: [
          {
            title: 'A',
            imageUrl: 'http://169.254.169.254/latest/meta-data/',
            quantity: 1,
            unitPrice: '1',
            priceChanged: false,
          },
          { title: 'B', imageUrl: 'file:///etc/passwd', quantity: 1, unitPrice: '1', priceChanged: false },
          { title: 'C', imageUrl: 'https://cdn.example.com/c.png', quantity: 1, unitPrice: '1', priceChanged: false },
        ],
        cartValue: '3',
      }),
    );
    expect(out.html).not.toContain('169.254.169.254');
    expect(out.html).not.toContain('file:');
    expect(out.html).toContain('https://cdn.example.com/c.png');
    expect(out.warnings.filter((w) => w === 'image-dropped')).toHaveLength(2);
  });

  it('formats money per currency from decimal strings and refuses malformed amounts', async () => {
    const yen = await renderer.render(
      input({
        currency: 'JPY',
        cartValue: '1234',
        items: [{ title: 'T', quantity: 3, unitPrice: '411.5', priceChanged: false }],
      }),
    );
    expect(yen.text).toContain('¥1,234');
    expect(yen.text).toContain('3 × ¥412');
    const big = await renderer.render(input({ cartValue: '123456789012345.67', items: [] }));
    expect(big.text).toContain('$123,456,789,012,345.67');
    for (const bad of ['12,50', '-1', 'NaN', '1e308', '']) {
      await expect(renderer.render(input({ cartValue: bad }))).rejects.toThrow(RenderInputError);
    }
  });

  it('refuses non-http checkout links and requires a postal address for email', async () => {
    await expect(renderer.render(input({ checkoutUrl: 'javascript:alert(1)' }))).rejects.toThrow(RenderInputError);
    await expect(renderer.render(input({ shop: { ...input().shop, postalAddress: ' ' } }))).rejects.toThrow(
      'postal address',
    );
  });

  it('still sets List-Unsubscribe for an http PUBLIC_URL, with a warning', async () => {
    const out = await renderer.render(input({ unsubscribeUrl: 'http://localhost:3000/u/tok' }));
    expect(out.headers['List-Unsubscribe']).toBe('<http://localhost:3000/u/tok>');
    expect(out.warnings).toContain('unsubscribe-url-not-https');
  });
});

const base = DEFAULT_EMAIL_TEMPLATES.get('welcome-0') as EmailTemplateSource;

function email(patch: Partial<EmailTemplateSource>): EmailTemplateSource {
  return { ...base, ...patch };
}

describe('validateTemplate (merchant overrides)', () => {
  it('accepts every default and a reasonable custom template', () => {
    for (const source of [...DEFAULT_EMAIL_TEMPLATES.values(), ...Object.values(DEFAULT_SMS_TEMPLATES)]) {
      expect(validateTemplate(source)).toEqual({ ok: true });
    }
    expect(
      validateTemplate(
        email({
          subject: 'Hello from {{shop.name}}',
          mjml: `<mjml><mj-body><mj-section><mj-column>
<mj-text>{{#each items}}{{@index}}. {{title}} {{../cartTotal}}{{/each}} {{#with discount}}{{code}}{{/with}}</mj-text>
<mj-button href="{{checkoutUrl}}">Buy</mj-button>
<mj-text>{{shop.postalAddress}} <a href="{{unsubscribeUrl}}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`,
        }),
      ),
    ).toEqual({ ok: true });
  });

  it.each([
    ['{{constructor}}'],
    ['{{__proto__}}'],
    ['{{shop.constructor.name}}'],
    ['{{[constructor]}}'],
    ['{{shop.__proto__.polluted}}'],
    ['{{#with shop}}{{constructor}}{{/with}}'],
    ['{{#each items}}{{this.constructor}}{{/each}}'],
    ['{{lookup shop "constructor"}}'],
    ['{{#with (lookup shop "constructor")}}x{{/with}}'],
    ['{{@root.constructor}}'],
    ['{{> partial}}'],
    ['{{{customerName}}}'],
    ['{{& customerName}}'],
    ['{{log customerName}}'],
    ['{{#each shop}}x{{/each}}'],
    ['{{shop}}'],
    ['{{customerNam}}'],
    ['{{#if customerName as |x|}}{{/if}}'],
    ['{{#foo}}x{{/foo}}'],
  ])('refuses %s in a subject', (subject) => {
    const result = validateTemplate(email({ subject }));
    expect(result).toMatchObject({ ok: false, field: 'subject' });
  });

  it('refuses optional data used without a guard', () => {
    expect(validateTemplate(email({ subject: 'Code {{discount.code}}' }))).toEqual({
      ok: false,
      field: 'subject',
      error: expect.stringContaining('{{#if}}'),
    });
  });

  it('refuses a body without the unsubscribe link or the postal address (R25)', () => {
    expect(
      validateTemplate(
        email({ mjml: base.mjml.replace(/<a href="\{\{unsubscribeUrl\}\}"[^>]*>Unsubscribe<\/a>/, '') }),
      ),
    ).toEqual({
      ok: false,
      field: 'mjml',
      error: expect.stringContaining('unsubscribeUrl'),
    });
    expect(validateTemplate(email({ text: base.text.replace('{{shop.postalAddress}}', '') }))).toEqual({
      ok: false,
      field: 'text',
      error: expect.stringContaining('postalAddress'),
    });
  });

  it('refuses scripts, includes, variables in styles and customer data in URL attributes', () => {
    const inject = (snippet: string) => email({ mjml: base.mjml.replace('</mj-body>', `${snippet}</mj-body>`) });
    for (const snippet of [
      '<mj-raw><script>alert(1)</script></mj-raw>',
      '<mj-include path="/etc/passwd" />',
      '<mj-section><mj-column><mj-button href="{{customerName}}">x</mj-button></mj-column></mj-section>',
      '<mj-raw><a href="https://x.example/?q={{customerName}}">x</a></mj-raw>',
      '<mj-raw><p style="color:{{customerName}}">x</p></mj-raw>',
    ]) {
      expect(validateTemplate(inject(snippet))).toMatchObject({ ok: false, field: 'mjml' });
    }
    expect(validateTemplate(email({ mjml: '<mjml><mj-body><mj-nope/></mj-body></mjml>' }))).toMatchObject({
      ok: false,
      field: 'mjml',
    });
  });

  it('requires STOP wording in SMS', () => {
    expect(validateTemplate({ channel: 'sms', text: '{{shop.name}}: {{checkoutUrl}}' })).toMatchObject({
      ok: false,
      field: 'text',
    });
  });

  it('compiles a source once and reuses it', () => {
    const cache = new TemplateCache(10);
    const source: TemplateSource = { channel: 'sms', text: 'Hi {{shop.name}} {{checkoutUrl}} Reply STOP to opt out' };
    const first = cache.get(source);
    expect(cache.get({ ...source })).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('uses a valid override and falls back to the default when a stored one does not compile', async () => {
    const overrides = new Map<string, TemplateSource>([
      ['shop-1/welcome-0', email({ subject: 'Custom: {{shop.name}}' })],
      ['shop-1/welcome-1', email({ subject: '{{constructor.constructor}}' })],
    ]);
    const invalid: string[] = [];
    const custom = new TemplateMessageRenderer({
      overrides: { findTemplate: async (shopId, templateId) => overrides.get(`${shopId}/${templateId}`) },
      onInvalidOverride: (info) => invalid.push(info.templateId),
    });
    const good = await custom.render(input({ templateId: 'welcome-0' }));
    expect(good).toMatchObject({ subject: 'Custom: Lamp Co', template: { origin: 'override' } });
    const bad = await custom.render(input({ templateId: 'welcome-1' }));
    expect(bad.template.origin).toBe('default');
    expect(bad.warnings).toContain('override-invalid-used-default');
    expect(bad.subject).toBe('Ada, still thinking it over?');
    expect(invalid).toEqual(['welcome-1']);
  });

  it("an engaged customer's rich variant: the shop's <template>-rich when it has one, else the step's own (RFC 0013)", async () => {
    const overrides = new Map<string, TemplateSource>([
      ['shop-1/welcome-0', email({ subject: 'Plain: {{shop.name}}' })],
      ['shop-1/welcome-0-rich', email({ subject: 'Rich: {{shop.name}}, {{itemCount}} items' })],
    ]);
    const custom = new TemplateMessageRenderer({
      overrides: { findTemplate: async (shopId, templateId) => overrides.get(`${shopId}/${templateId}`) },
    });
    const rich = await custom.render(input({ templateId: 'welcome-0', variant: 'rich' }));
    expect(rich).toMatchObject({
      subject: 'Rich: Lamp Co, 2 items',
      template: { id: 'welcome-0-rich', origin: 'override' },
    });
    expect((await custom.render(input({ templateId: 'welcome-0' }))).subject).toBe('Plain: Lamp Co');
    // No rich template for step 1: its own (here the default) copy.
    const fallback = await custom.render(input({ templateId: 'welcome-1', variant: 'rich' }));
    expect(fallback.template.origin).toBe('default');
  });
});

describe('TemplateCache bound (CACHE_TEMPLATES)', () => {
  it('keeps at most its capacity, and resize evicts the least recently used', () => {
    const cache = new TemplateCache(3);
    const sms = (text: string) => ({ channel: 'sms' as const, text: `${text}. Reply STOP to opt out` });
    for (const t of ['one', 'two', 'three', 'four']) cache.get(sms(t));
    expect(cache.size).toBe(3);
    cache.resize(1);
    expect(cache.size).toBe(1);
    const kept = cache.get(sms('four'));
    expect(cache.get(sms('four'))).toBe(kept);
    expect(cache.size).toBe(1);
  });
});

describe('TemplateMessageRenderer: sold-out lines', () => {
  it('shows an alternative in place of the sold-out item and names a line with none as sold out', async () => {
    const out = await renderer.render(
      input({
        items: [
          { title: 'Jute tote', quantity: 2, unitPrice: '27.00', priceChanged: false, replaces: 'Canvas tote' },
          { title: 'Bulb', quantity: 1, unitPrice: '4.50', priceChanged: false },
        ],
        soldOut: [
          { title: 'Desk <lamp>', variantTitle: 'Brass', notifyUrl: 'https://reclaim.example/n/v1.notify.sig' },
        ],
        cartValue: '58.50',
        discount: undefined,
      }),
    );
    expect(out.text).toContain('Jute tote: 2 × $27.00 = $54.00 — in place of Canvas tote, which is sold out');
    expect(out.text).toContain(
      'Desk <lamp> (Brass) is sold out for now. We will let you know when it is back. Notify me: https://reclaim.example/n/v1.notify.sig',
    );
    expect(out.html).toContain('In place of <span dir="auto">Canvas tote</span>, which is sold out');
    expect(out.html).toContain('Desk &lt;lamp&gt;');
    expect(out.html).toContain('href="https://reclaim.example/n/v1.notify.sig"');
    // Without sold-out lines nothing about stock is said.
    const plain = await renderer.render(input());
    expect(plain.text).not.toContain('sold out');
    expect(plain.html).not.toContain('sold out');
  });

  it.each(['sales', 'help'] as const)(
    'the %s SMS says it in short: the replacement, or sold out with the notify link',
    async (kind) => {
      const notify = 'https://reclaim.example/t/n/v1.notify.sig';
      const replaced = await renderer.render(
        input({
          channel: 'sms',
          kind,
          templateId: kind === 'help' ? 'help-1' : 'welcome-1',
          items: [
            { title: 'Jute tote', quantity: 2, unitPrice: '27.00', priceChanged: false, replaces: 'Canvas tote' },
            { title: 'Bulb', quantity: 1, unitPrice: '4.50', priceChanged: false },
          ],
          cartValue: '58.50',
        }),
      );
      expect(replaced.text).toContain('Canvas tote is sold out, so we put Jute tote ($27.00) in its place.');
      expect(replaced.text).toContain('Reply STOP');
      const soldOut = await renderer.render(
        input({ channel: 'sms', kind, templateId: 'welcome-1', soldOut: [{ title: 'Desk lamp', notifyUrl: notify }] }),
      );
      expect(soldOut.text).toContain(`Desk lamp is sold out, we'll tell you when it's back: ${notify} ${CLICK_BASE}`);
      const noLink = await renderer.render(
        input({ channel: 'sms', kind, templateId: 'welcome-1', soldOut: [{ title: 'Desk lamp' }] }),
      );
      expect(noLink.text).toContain("Desk lamp is sold out, we'll tell you when it's back. ");
      const plain = await renderer.render(input({ channel: 'sms', kind, templateId: 'welcome-1' }));
      expect(plain.text).not.toContain('sold out');
    },
  );

  it('an SMS names one replacement and one sold-out line, with short titles, within the SMS limit', async () => {
    const long = 'Hand-stitched waxed canvas weekender tote with brass hardware';
    const many = Array.from({ length: 30 }, (_, i) => ({
      title: `${long} ${i}`,
      notifyUrl: `https://reclaim.example/t/n/v1.${'x'.repeat(120)}${i}.sig`,
    }));
    const out = await renderer.render(
      input({
        channel: 'sms',
        templateId: 'welcome-1',
        items: [
          { title: `${long} in olive`, quantity: 1, unitPrice: '80.00', priceChanged: false, replaces: `${long} A` },
          { title: `${long} in sand`, quantity: 1, unitPrice: '80.00', priceChanged: false, replaces: `${long} B` },
        ],
        soldOut: many,
        cartValue: '160.00',
      }),
    );
    expect(out.text.match(/sold out/g)).toHaveLength(2);
    expect(out.text).toContain("Hand-stitched waxed canvas weekender to… is sold out, we'll tell you when it's back: ");
    expect(out.text).toContain('so we put Hand-stitched waxed canvas weekender to… ($80.00) in its place.');
    expect(out.text).not.toContain(' 1 is sold out');
    expect([...out.text].length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(out.warnings).not.toContain('sms-stock-note-dropped');
    // A merchant's SMS template sees one sold-out line too.
    const overrides = (text: string) => ({ findTemplate: async () => ({ channel: 'sms' as const, text }) });
    const listing = new TemplateMessageRenderer({
      overrides: overrides(
        '{{shop.name}}: {{#each soldOut}}{{title}} {{notifyUrl}} {{/each}}{{checkoutUrl}} Reply STOP to opt out.',
      ) as never,
    });
    const one = await listing.render(input({ channel: 'sms', templateId: 'welcome-1', soldOut: many }));
    expect(one.text.match(/weekender/g)).toHaveLength(1);
    // One whose lines already fill the SMS is sent without the out-of-stock note rather than refused.
    const lines = new TemplateMessageRenderer({
      overrides: overrides(
        '{{shop.name}}: {{#each items}}{{title}}; {{/each}}{{#each soldOut}}{{title}} is sold out: {{notifyUrl}} {{/each}}{{checkoutUrl}} Reply STOP to opt out.',
      ) as never,
    });
    const full = await lines.render(
      input({
        channel: 'sms',
        templateId: 'welcome-1',
        items: Array.from({ length: 22 }, (_, i) => ({
          title: `${long} ${i}`,
          quantity: 1,
          unitPrice: '1.00',
          priceChanged: false,
        })),
        soldOut: many,
        cartValue: '22.00',
      }),
    );
    expect(full.warnings).toContain('sms-stock-note-dropped');
    expect(full.text).not.toContain('is sold out');
    expect([...full.text].length).toBeLessThanOrEqual(SMS_MAX_CHARS);
  });

  it('refuses a notify link that is not http(s), naming the field', async () => {
    await expect(
      renderer.render(input({ soldOut: [{ title: 'Desk lamp', notifyUrl: 'javascript:alert(1)' }] })),
    ).rejects.toThrow('soldOut[0].notifyUrl must be http(s)');
  });
});

describe('TemplateMessageRenderer: shipping estimate', () => {
  it('shows the delivery estimate where the platform stated one, and says nothing otherwise', async () => {
    const out = await renderer.render(input({ shipping: { method: 'Ground', estimate: '1-2 business days' } }));
    expect(out.text).toContain('Delivery (Ground): 1-2 business days');
    expect(out.html).toContain('1-2 business days');
    const methodOnly = await renderer.render(input({ shipping: { method: 'Ground' } }));
    expect(methodOnly.text).not.toContain('Delivery');
    const none = await renderer.render(input());
    expect(none.text).not.toContain('Delivery');
    expect(none.html).not.toContain('Delivery');
  });
});

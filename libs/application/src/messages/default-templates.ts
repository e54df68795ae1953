import type { EmailTemplateSource, SmsTemplateSource } from './template-engine';

/**
 * The built-in templates, used when a shop has no override. Ids follow the sequence catalogue:
 * `welcome-0..3`, `loyalty-0..3`, `premium-0..3`, the routed bands' `short-0..1` and `nurture-0..2`
 * (routing by score) (sales) and `help-0..3` (while a support ticket
 * is open), plus `back-in-stock` (a line announced as sold out is available again). They are ordinary templates: the same validation and compilation as a merchant's.
 */

export const SEQUENCE_KINDS = ['welcome', 'loyalty', 'premium', 'short', 'nurture'] as const;
export type SequenceKind = (typeof SEQUENCE_KINDS)[number] | 'help';
export const DEFAULT_STEPS = 4;

interface Copy {
  readonly subject: string;
  readonly headline: string;
  readonly intro: string;
  readonly cta: string;
}

const GREETING = '{{#if customerName}}Hi {{customerName}},{{else}}Hi there,{{/if}}';

const COPY: Readonly<Record<SequenceKind, readonly Copy[]>> = {
  welcome: [
    {
      subject: 'You left something in your cart at {{shop.name}}',
      headline: 'Your cart is waiting',
      intro: 'You left a few things behind. We saved them for you, so you can pick up right where you left off.',
      cta: 'Return to your cart',
    },
    {
      subject: '{{#if customerName}}{{customerName}}, still{{else}}Still{{/if}} thinking it over?',
      headline: 'Still thinking it over?',
      intro:
        'Your items are still in your cart. Questions about sizing, shipping or returns? Just reply to this email.',
      cta: 'Complete your order',
    },
    {
      subject:
        '{{#if discount}}{{discount.percent}}% off your cart at {{shop.name}}{{else}}Your cart at {{shop.name}}{{/if}}',
      headline: '{{#if discount}}A little something to help you decide{{else}}Your cart is still saved{{/if}}',
      intro: 'Your cart is still saved.',
      cta: 'Return to your cart',
    },
    {
      subject: 'Last chance: your cart at {{shop.name}}',
      headline: 'Last reminder',
      intro: 'This is our last reminder about your cart. We will not email you about it again.',
      cta: 'Finish checking out',
    },
  ],
  loyalty: [
    {
      subject: 'Welcome back: your cart at {{shop.name}} is saved',
      headline: 'Good to see you again',
      intro: 'Thanks for shopping with us before. Your cart is saved and ready whenever you are.',
      cta: 'Return to your cart',
    },
    {
      subject: 'Your favourites are waiting at {{shop.name}}',
      headline: 'Your picks are still here',
      intro: 'As a returning customer you know we take care of every order. Your items are still in your cart.',
      cta: 'Complete your order',
    },
    {
      subject:
        '{{#if discount}}A thank-you: {{discount.percent}}% off your cart{{else}}Your cart at {{shop.name}}{{/if}}',
      headline: '{{#if discount}}A thank-you for coming back{{else}}Your cart is still saved{{/if}}',
      intro: 'We appreciate loyal customers.',
      cta: 'Return to your cart',
    },
    {
      subject: 'Last reminder about your cart at {{shop.name}}',
      headline: 'One last reminder',
      intro: 'This is the last time we will remind you about this cart.',
      cta: 'Finish checking out',
    },
  ],
  premium: [
    {
      subject: 'Your selection at {{shop.name}} is reserved',
      headline: 'Your selection is reserved',
      intro:
        'We have kept your selection for you. If you would like advice before ordering, simply reply to this email.',
      cta: 'Review your selection',
    },
    {
      subject: 'Can we help with your order at {{shop.name}}?',
      headline: 'Personal help, whenever you need it',
      intro: 'Our team is happy to answer questions about the items in your cart, delivery or payment options.',
      cta: 'Complete your order',
    },
    {
      subject:
        '{{#if discount}}{{discount.percent}}% off your selection at {{shop.name}}{{else}}Your selection at {{shop.name}}{{/if}}',
      headline: '{{#if discount}}An offer on your selection{{else}}Your selection is still reserved{{/if}}',
      intro: 'Your selection is still reserved.',
      cta: 'Review your selection',
    },
    {
      subject: 'Your reserved selection at {{shop.name}}',
      headline: 'Final reminder',
      intro: 'This is our final reminder about your selection.',
      cta: 'Complete your order',
    },
  ],
  // Routing by score, high probability: a reminder, no early discount (only the last step may carry one).
  short: [
    {
      subject: 'Your cart at {{shop.name}} is ready when you are',
      headline: 'Ready when you are',
      intro: 'Everything you picked is still in your cart. It only takes a moment to finish your order.',
      cta: 'Finish your order',
    },
    {
      subject:
        '{{#if discount}}{{discount.percent}}% off to finish your order at {{shop.name}}{{else}}Your cart at {{shop.name}} is still saved{{/if}}',
      headline: '{{#if discount}}A little extra to finish your order{{else}}Your cart is still saved{{/if}}',
      intro: 'Your items are still waiting. This is our last note about this cart.',
      cta: 'Finish your order',
    },
  ],
  // Routing by score, low probability: fewer, spaced messages that inform rather than push.
  nurture: [
    {
      subject: 'Still browsing at {{shop.name}}?',
      headline: 'Take your time',
      intro:
        'We saved your cart so you can come back whenever it suits you. Questions about sizing, delivery or returns? Just reply.',
      cta: 'See your cart',
    },
    {
      subject: 'What other customers ask before ordering from {{shop.name}}',
      headline: 'Good to know before you order',
      intro: 'Free returns, secure payment and a team that answers your questions. Your cart is still saved.',
      cta: 'See your cart',
    },
    {
      subject:
        '{{#if discount}}{{discount.percent}}% off your saved cart at {{shop.name}}{{else}}Your saved cart at {{shop.name}}{{/if}}',
      headline: '{{#if discount}}An offer on your saved cart{{else}}Your cart is still saved{{/if}}',
      intro: 'This is our last note about this cart.',
      cta: 'Return to your cart',
    },
  ],
  help: [
    {
      subject: 'We are looking into your question — your cart at {{shop.name}} is safe',
      headline: 'We are on it',
      intro: 'Our support team has your request and will get back to you. Your cart is saved in the meantime.',
      cta: 'View your cart',
    },
    {
      subject: 'An update on your cart at {{shop.name}}',
      headline: 'Your cart is still saved',
      intro: 'While our team helps you, your items stay in your cart. Reply to this email if there is anything else.',
      cta: 'View your cart',
    },
    {
      subject: 'Still here to help — {{shop.name}}',
      headline: 'Still here to help',
      intro: 'If your question has been answered, your cart is ready when you are.',
      cta: 'Return to your cart',
    },
    {
      subject: 'Your cart at {{shop.name}}',
      headline: 'Your cart is ready',
      intro: 'We hope we could help. Your cart is still saved.',
      cta: 'Return to your cart',
    },
  ],
};

const DISCOUNT_HTML =
  '{{#if discount}}<p style="font-size:18px;font-weight:bold;">{{discount.percent}}% off with code <span dir="ltr">{{discount.code}}</span></p><p>Applied automatically at checkout. Valid until {{discount.expiresAt}}.</p>{{/if}}';

function mjml(copy: Copy): string {
  return `<mjml>
  <mj-head>
    <mj-title>{{subject}}</mj-title>
    <mj-preview>${copy.headline}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#222222" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="20px" font-weight="bold"><span dir="auto">{{shop.name}}</span></mj-text>
        <mj-text font-size="22px" font-weight="bold">${copy.headline}</mj-text>
        <mj-text><p>${GREETING.replace('{{customerName}}', '<span dir="auto">{{customerName}}</span>')}</p><p>${copy.intro}</p>${DISCOUNT_HTML}</mj-text>
        <mj-table>
          {{#each items}}<tr>
            <td style="padding:8px 8px 8px 0;width:80px;vertical-align:top;">{{#if imageUrl}}<img src="{{imageUrl}}" alt="" width="72" style="display:block;width:72px;border:0;">{{/if}}</td>
            <td style="padding:8px 0;vertical-align:top;"><div dir="auto"><strong>{{title}}</strong></div>{{#if variantTitle}}<div dir="auto">{{variantTitle}}</div>{{/if}}{{#if replaces}}<div style="color:#666666;">In place of <span dir="auto">{{replaces}}</span>, which is sold out</div>{{/if}}<div>Qty {{quantity}} × {{unitPrice}}{{#if priceChanged}} (current price){{/if}}</div></td>
            <td style="padding:8px 0;vertical-align:top;text-align:right;white-space:nowrap;">{{lineTotal}}</td>
          </tr>{{/each}}
          <tr>
            <td></td>
            <td style="padding:12px 0;border-top:1px solid #dddddd;"><strong>Total</strong></td>
            <td style="padding:12px 0;border-top:1px solid #dddddd;text-align:right;white-space:nowrap;"><strong>{{cartTotal}}</strong></td>
          </tr>
        </mj-table>
        <mj-text>{{#if shipping}}{{#if shipping.estimate}}<p>Delivery{{#if shipping.method}} (<span dir="auto">{{shipping.method}}</span>){{/if}}: <span dir="auto">{{shipping.estimate}}</span></p>{{/if}}{{/if}}{{#each soldOut}}<p><strong dir="auto">{{title}}</strong>{{#if variantTitle}} (<span dir="auto">{{variantTitle}}</span>){{/if}} is sold out for now. We will let you know when it is back.{{#if notifyUrl}} <a href="{{notifyUrl}}">Notify me</a>{{/if}}</p>{{/each}}</mj-text>
        <mj-button href="{{checkoutUrl}}" background-color="#1a73e8" color="#ffffff" font-size="16px">${copy.cta}</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text font-size="12px" color="#666666"><p><span dir="auto">{{shop.name}}</span> · <span dir="auto">{{shop.postalAddress}}</span></p><p>You are receiving this because you started a checkout at {{shop.domain}}. <a href="{{unsubscribeUrl}}" style="color:#666666;">Unsubscribe</a> from these reminders.</p></mj-text>
      </mj-column>
    </mj-section>
    <mj-raw>{{#if trackingPixelUrl}}<img src="{{trackingPixelUrl}}" alt="" width="1" height="1" style="display:block;width:1px;height:1px;border:0;">{{/if}}</mj-raw>
  </mj-body>
</mjml>
`;
}

function plainText(copy: Copy): string {
  return `${GREETING}

${copy.intro}
{{#if discount}}
{{discount.percent}}% off with code {{discount.code}} — applied automatically at checkout, valid until {{discount.expiresAt}}.
{{/if}}

Your cart:
{{#each items}}
- {{title}}{{#if variantTitle}} ({{variantTitle}}){{/if}}: {{quantity}} × {{unitPrice}}{{#if priceChanged}} (current price){{/if}} = {{lineTotal}}{{#if replaces}} — in place of {{replaces}}, which is sold out{{/if}}
{{/each}}
Total: {{cartTotal}}
{{#if shipping}}{{#if shipping.estimate}}Delivery{{#if shipping.method}} ({{shipping.method}}){{/if}}: {{shipping.estimate}}
{{/if}}{{/if}}{{#each soldOut}}
{{title}}{{#if variantTitle}} ({{variantTitle}}){{/if}} is sold out for now. We will let you know when it is back.{{#if notifyUrl}} Notify me: {{notifyUrl}}{{/if}}
{{/each}}

${copy.cta}: {{checkoutUrl}}

--
{{shop.name}}
{{shop.postalAddress}}
Unsubscribe from these reminders: {{unsubscribeUrl}}
`;
}

function email(copy: Copy): EmailTemplateSource {
  return { channel: 'email', subject: copy.subject, mjml: mjml(copy), text: plainText(copy) };
}

/**
 * The short form of the out-of-stock story for SMS: the replacement put in a sold-out line's place,
 * or the sold-out line with the "notify me" link. The renderer hands SMS templates at most one of
 * each, with short titles (see `smsView`), so the text stays a few segments long.
 */
const SMS_STOCK =
  "{{#each items}}{{#if replaces}} {{replaces}} is sold out, so we put {{title}} ({{unitPrice}}) in its place.{{/if}}{{/each}}{{#each soldOut}} {{title}} is sold out, we'll tell you when it's back{{#if notifyUrl}}: {{notifyUrl}}{{else}}.{{/if}}{{/each}}";

export const DEFAULT_SMS_TEMPLATES: Readonly<Record<'sales' | 'help', SmsTemplateSource>> = {
  sales: {
    channel: 'sms',
    text: `{{shop.name}}: your cart is saved{{#if discount}} — {{discount.percent}}% off with code {{discount.code}} until {{discount.expiresAt}}{{/if}}.${SMS_STOCK} {{checkoutUrl}} Reply STOP to opt out.`,
  },
  help: {
    channel: 'sms',
    text: `{{shop.name}}: our team is looking into your question; your cart is saved.${SMS_STOCK} {{checkoutUrl}} Reply STOP to opt out.`,
  },
};

/** One message when a line announced as sold out is back (`back-in-stock`, outside the sequences). */
const BACK_IN_STOCK: Copy = {
  subject: 'Back in stock at {{shop.name}}',
  headline: 'It is back in stock',
  intro:
    'Good news: what was sold out when you left is available again. We saved your cart, so it only takes a moment.',
  cta: 'Return to your cart',
};

function buildDefaults(): ReadonlyMap<string, EmailTemplateSource> {
  const map = new Map<string, EmailTemplateSource>();
  for (const kind of [...SEQUENCE_KINDS, 'help'] as const) {
    COPY[kind].forEach((copy, step) => map.set(`${kind}-${step}`, email(copy)));
  }
  map.set('back-in-stock', email(BACK_IN_STOCK));
  return map;
}

/** Built-in email templates by id (`welcome-0` … `help-3`). */
export const DEFAULT_EMAIL_TEMPLATES: ReadonlyMap<string, EmailTemplateSource> = buildDefaults();

/** The built-in template for an id; unknown ids fall back by kind and step (`help-N` or `welcome-N`). */
export function defaultTemplateFor(
  templateId: string,
  kind: 'sales' | 'help',
  channel: 'email' | 'sms',
): { source: EmailTemplateSource | SmsTemplateSource; fallback: boolean } {
  if (channel === 'sms') return { source: DEFAULT_SMS_TEMPLATES[kind], fallback: false };
  const exact = DEFAULT_EMAIL_TEMPLATES.get(templateId);
  if (exact !== undefined && (kind === 'help') === templateId.startsWith('help-'))
    return { source: exact, fallback: false };
  const stepMatch = /-(\d+)$/.exec(templateId);
  const step = Math.min(stepMatch ? Number(stepMatch[1]) : 0, DEFAULT_STEPS - 1);
  const id = `${kind === 'help' ? 'help' : 'welcome'}-${step}`;
  const source = DEFAULT_EMAIL_TEMPLATES.get(id);
  if (source === undefined) throw new Error(`no default template ${id}`);
  return { source, fallback: true };
}

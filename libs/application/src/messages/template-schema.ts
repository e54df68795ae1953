/** The view model every recovery template is written against, and the template sources (R23). */

export type Field =
  | { readonly kind: 'text' }
  | { readonly kind: 'url' }
  | { readonly kind: 'number' }
  | { readonly kind: 'flag' }
  | { readonly kind: 'object'; readonly fields: Fields }
  | { readonly kind: 'list'; readonly item: Fields };
export type Fields = Readonly<Record<string, Field>>;

const text: Field = { kind: 'text' };
const url: Field = { kind: 'url' };
const num: Field = { kind: 'number' };
const flag: Field = { kind: 'flag' };

/** Every variable a template may use (null when absent: customerName, variantTitle, imageUrl, replaces, notifyUrl, shipping, discount, trackingPixelUrl). */
export const TEMPLATE_VARIABLES: Fields = {
  subject: text,
  help: flag,
  step: num,
  shop: { kind: 'object', fields: { name: text, domain: text, url, postalAddress: text } },
  customerName: text,
  items: {
    kind: 'list',
    item: {
      title: text,
      variantTitle: text,
      imageUrl: url,
      quantity: num,
      unitPrice: text,
      lineTotal: text,
      priceChanged: flag,
      replaces: text,
    },
  },
  itemCount: num,
  soldOut: { kind: 'list', item: { title: text, variantTitle: text, notifyUrl: url } },
  shipping: { kind: 'object', fields: { method: text, estimate: text } },
  cartTotal: text,
  discount: { kind: 'object', fields: { code: text, percent: num, expiresAt: text } },
  checkoutUrl: url,
  unsubscribeUrl: url,
  trackingPixelUrl: url,
};

export interface TemplateItemView {
  readonly title: string;
  readonly variantTitle: string | null;
  readonly imageUrl: string | null;
  readonly quantity: number;
  readonly unitPrice: string;
  readonly lineTotal: string;
  readonly priceChanged: boolean;
  /** The sold-out item this one is offered in place of (its title); null for the cart's own lines. */
  readonly replaces: string | null;
}

/** A cart line the store cannot sell, with no alternative that fits. */
export interface TemplateSoldOutView {
  readonly title: string;
  readonly variantTitle: string | null;
  /** Our signed "notify me" link, when offered. */
  readonly notifyUrl: string | null;
}

/** What templates see; built by the renderer from the render input. */
export interface TemplateView {
  readonly subject: string;
  readonly help: boolean;
  readonly step: number;
  readonly shop: {
    readonly name: string;
    readonly domain: string;
    readonly url: string;
    readonly postalAddress: string;
  };
  readonly customerName: string | null;
  readonly items: readonly TemplateItemView[];
  readonly itemCount: number;
  /** Lines announced as sold out (empty when none). */
  readonly soldOut: readonly TemplateSoldOutView[];
  /** The chosen shipping option and its estimate, as the platform states them; null when it does not. */
  readonly shipping: { readonly method: string | null; readonly estimate: string | null } | null;
  readonly cartTotal: string;
  readonly discount: { readonly code: string; readonly percent: number; readonly expiresAt: string } | null;
  readonly checkoutUrl: string;
  readonly unsubscribeUrl: string;
  readonly trackingPixelUrl: string | null;
}

export type TemplatePart = 'subject' | 'mjml' | 'text';

/** A merchant's email template: Handlebars subject, MJML + Handlebars body, Handlebars text alternative. */
export interface EmailTemplateSource {
  readonly channel: 'email';
  readonly subject: string;
  readonly mjml: string;
  readonly text: string;
}

/** A merchant's SMS template (Handlebars text). */
export interface SmsTemplateSource {
  readonly channel: 'sms';
  readonly text: string;
}

export type TemplateSource = EmailTemplateSource | SmsTemplateSource;

export type TemplateValidation =
  { readonly ok: true } | { readonly ok: false; readonly field: TemplatePart; readonly error: string };

export class TemplateError extends Error {
  constructor(
    readonly field: TemplatePart,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TemplateError';
  }
}

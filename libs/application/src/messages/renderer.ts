import type { Channel } from '@reclaim/domain';
import { defaultTemplateFor } from './default-templates';
import { formatMoney, isDecimalAmount, multiplyAmount, safeLocale } from './money-format';
import type { TemplateOverrides } from './ports';
import {
  compileSubject,
  sharedTemplateCache,
  TemplateError,
  type CompiledTemplate,
  type TemplateCache,
  type TemplateItemView,
  type TemplateView,
} from './template-engine';
import { isPublicHttpUrl } from './url-safety';
import { withUtm, type UtmParameters } from './utm';

export interface RenderItem {
  readonly title: string;
  readonly variantTitle?: string;
  readonly imageUrl?: string;
  /** The product page (template mode links each line to it; the rendered message does not). */
  readonly productUrl?: string;
  readonly quantity: number;
  /** Current unit price, a decimal string in `currency`. */
  readonly unitPrice: string;
  readonly priceChanged: boolean;
  /** The sold-out item this one is offered in place of (its title), when it is an alternative. */
  readonly replaces?: string;
}

/** A line of the cart the store cannot sell and has no fitting alternative for. */
export interface RenderSoldOutItem {
  readonly title: string;
  readonly variantTitle?: string;
  readonly productUrl?: string;
  /** Where the shopper asks to hear when it is back (a signed link of ours), when offered. */
  readonly notifyUrl?: string;
}

export interface RenderShop {
  readonly id: string;
  readonly name?: string;
  /** Storefront host shown in the footer. */
  readonly domain: string;
  /** Required for email (R25). */
  readonly postalAddress: string;
  readonly currency: string;
  /** IANA zone for the discount expiry (UTC when absent). */
  readonly timeZone?: string;
}

export interface RenderDiscount {
  readonly code: string;
  readonly percent: number;
  readonly expiresAt: string | Date;
}

/** What the effect runner hands the renderer for one (recovery, step, channel). */
export interface RenderMessageInput {
  readonly templateId: string;
  /** `rich`: an engaged customer (RFC 0013): the shop's `<templateId>-rich` template is used when it has one. */
  readonly variant?: 'rich';
  readonly kind: 'sales' | 'help';
  readonly channel: Channel;
  /** E-mail subject line overriding the template's (a step variant's, RFC 0016); a template string. */
  readonly subject?: string;
  readonly locale?: string;
  readonly step?: number;
  readonly shop: RenderShop;
  readonly customerName?: string;
  readonly items: readonly RenderItem[];
  /** Lines announced as sold out (none fits in their place). */
  readonly soldOut?: readonly RenderSoldOutItem[];
  /** The shipping option the shopper chose and its delivery estimate, where the platform states them. */
  readonly shipping?: { readonly method?: string; readonly estimate?: string };
  /** Cart value after the stock/price check, a decimal string in `currency`. */
  readonly cartValue: string;
  readonly currency: string;
  readonly discount?: RenderDiscount;
  /** The shop's checkout/recovery URL; the discount code is added as `discount=` unless already there. */
  readonly checkoutUrl: string;
  /** `https://…/u/<token>` (see MessageLinks). */
  readonly unsubscribeUrl: string;
  readonly trackingPixelUrl?: string;
  /**
   * `utm_*` parameters for the shop links (checkout and storefront), added before `clickUrl` signs
   * the destination; keys the URL already carries are kept as they are. None when switched off.
   */
  readonly utm?: UtmParameters;
  /** Wraps a shop URL in a signed click-tracking link (`/t/c/<token>`). */
  clickUrl(target: string): string;
}

/** Warnings carry no personal data. */
export type RenderWarning =
  | 'image-dropped'
  | 'unsubscribe-url-not-https'
  | 'template-fallback'
  | 'override-invalid-used-default'
  | 'sms-stock-note-dropped';

/**
 * The longest SMS sent (characters): Twilio refuses a body over 1,600 (error 21617). An SMS whose
 * out-of-stock note would take it over is sent without the note (warning `sms-stock-note-dropped`).
 */
export const SMS_MAX_CHARS = 1600;

/** Titles in an SMS are cut to this many characters (with `…`). */
export const SMS_TITLE_CHARS = 40;

export interface RenderedMessage {
  /** Empty for SMS. */
  readonly subject: string;
  /** Empty for SMS. */
  readonly html: string;
  readonly text: string;
  /** Email: List-Unsubscribe and List-Unsubscribe-Post (R25). SMS: none. */
  readonly headers: Readonly<Record<string, string>>;
  readonly warnings: readonly RenderWarning[];
  readonly template: { readonly id: string; readonly origin: 'override' | 'default' | 'fallback' };
}

/** The port the effect runner calls. */
export interface MessageRenderer {
  render(input: RenderMessageInput): Promise<RenderedMessage>;
}

/** Bad input from the caller (not a template problem): the step should be skipped, not retried. */
export class RenderInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderInputError';
  }
}

export interface TemplateMessageRendererOptions {
  readonly overrides?: TemplateOverrides;
  readonly cache?: TemplateCache;
  /** Called when a stored override no longer compiles (the default template is used instead). */
  readonly onInvalidOverride?: (info: { shopId: string; templateId: string; error: string }) => void;
}

export class TemplateMessageRenderer implements MessageRenderer {
  private readonly cache: TemplateCache;

  constructor(private readonly options: TemplateMessageRendererOptions = {}) {
    this.cache = options.cache ?? sharedTemplateCache();
  }

  async render(input: RenderMessageInput): Promise<RenderedMessage> {
    const warnings: RenderWarning[] = [];
    const { compiled, origin, id } = await this.templateFor(input, warnings);
    const view = this.view(input, warnings);
    if (compiled.channel === 'sms') {
      let text = compiled.text(smsView(view));
      if ([...text].length > SMS_MAX_CHARS) {
        warnings.push('sms-stock-note-dropped');
        text = compiled.text(smsView(view, false));
      }
      return {
        subject: '',
        html: '',
        text,
        headers: {},
        warnings,
        template: { id, origin },
      };
    }
    if (input.shop.postalAddress.trim() === '') throw new RenderInputError('the shop has no postal address (R25)');
    const subject =
      input.subject !== undefined && input.kind === 'sales'
        ? compileSubject(input.subject)(view)
        : compiled.subject(view);
    const withSubject: TemplateView = record({ ...view, subject });
    const unsubscribe = new URL(input.unsubscribeUrl);
    if (unsubscribe.protocol !== 'https:') warnings.push('unsubscribe-url-not-https');
    return {
      subject,
      html: compiled.html(withSubject),
      text: compiled.text(withSubject),
      headers: {
        'List-Unsubscribe': `<${unsubscribe.href}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      warnings,
      template: { id, origin },
    };
  }

  private async templateFor(
    input: RenderMessageInput,
    warnings: RenderWarning[],
  ): Promise<{ compiled: CompiledTemplate; origin: 'override' | 'default' | 'fallback'; id: string }> {
    // An engaged customer (RFC 0013): the shop's rich variant of the step's template, when it has one.
    const richFound =
      input.variant === 'rich'
        ? await this.options.overrides?.findTemplate(input.shop.id, `${input.templateId}-rich`, input.channel)
        : undefined;
    const rich = richFound?.channel === input.channel ? richFound : undefined;
    const override =
      rich ?? (await this.options.overrides?.findTemplate(input.shop.id, input.templateId, input.channel));
    if (override !== undefined && override.channel === input.channel) {
      try {
        const id = rich !== undefined ? `${input.templateId}-rich` : input.templateId;
        return { compiled: this.cache.get(override), origin: 'override', id };
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        warnings.push('override-invalid-used-default');
        this.options.onInvalidOverride?.({ shopId: input.shop.id, templateId: input.templateId, error: err.message });
      }
    }
    const { source, fallback } = defaultTemplateFor(
      input.templateId,
      input.kind,
      // A push notification is short text, like an SMS.
      input.channel === 'push' ? 'sms' : input.channel,
    );
    if (fallback) warnings.push('template-fallback');
    return { compiled: this.cache.get(source), origin: fallback ? 'fallback' : 'default', id: input.templateId };
  }

  private view(input: RenderMessageInput, warnings: RenderWarning[]): TemplateView {
    const locale = safeLocale(input.locale);
    const money = (amount: string, what: string) => {
      if (!isDecimalAmount(amount)) throw new RenderInputError(`${what} is not a decimal amount`);
      return formatMoney(amount, input.currency, locale);
    };
    const checkout = withUtm(httpUrl(input.checkoutUrl, 'checkoutUrl'), input.utm);
    if (input.discount !== undefined && !checkout.searchParams.has('discount')) {
      checkout.searchParams.set('discount', input.discount.code);
    }
    httpUrl(input.unsubscribeUrl, 'unsubscribeUrl');
    const items = input.items.map((item, i): TemplateItemView => {
      if (!Number.isSafeInteger(item.quantity) || item.quantity < 0) {
        throw new RenderInputError(`items[${i}].quantity is not a whole number`);
      }
      let imageUrl: string | null = null;
      if (item.imageUrl !== undefined && item.imageUrl !== '') {
        if (isPublicHttpUrl(item.imageUrl)) imageUrl = item.imageUrl;
        else warnings.push('image-dropped');
      }
      return record({
        title: item.title,
        variantTitle: item.variantTitle ?? null,
        imageUrl,
        quantity: item.quantity,
        unitPrice: money(item.unitPrice, `items[${i}].unitPrice`),
        lineTotal: formatMoney(multiplyAmount(item.unitPrice, item.quantity), input.currency, locale),
        priceChanged: item.priceChanged,
        replaces: item.replaces ?? null,
      });
    });
    const soldOut = (input.soldOut ?? []).map((item, i) =>
      record({
        title: item.title,
        variantTitle: item.variantTitle ?? null,
        notifyUrl: item.notifyUrl !== undefined ? httpUrl(item.notifyUrl, `soldOut[${i}].notifyUrl`).href : null,
      }),
    );
    const discount = input.discount;
    if (
      discount !== undefined &&
      (!Number.isFinite(discount.percent) || discount.percent <= 0 || discount.percent > 100)
    ) {
      throw new RenderInputError('discount.percent must be in (0, 100]');
    }
    return record({
      subject: '',
      help: input.kind === 'help',
      step: input.step ?? stepOf(input.templateId),
      shop: record({
        name: input.shop.name ?? input.shop.domain,
        domain: input.shop.domain,
        url: input.utm === undefined ? checkout.origin : withUtm(new URL(checkout.origin), input.utm).href,
        postalAddress: input.shop.postalAddress,
      }),
      customerName: input.customerName ?? null,
      items,
      itemCount: items.length,
      soldOut,
      shipping:
        input.shipping === undefined || (input.shipping.method === undefined && input.shipping.estimate === undefined)
          ? null
          : record({ method: input.shipping.method ?? null, estimate: input.shipping.estimate ?? null }),
      cartTotal: money(input.cartValue, 'cartValue'),
      discount:
        discount === undefined
          ? null
          : record({
              code: discount.code,
              percent: discount.percent,
              expiresAt: formatDate(discount.expiresAt, locale, input.shop.timeZone),
            }),
      checkoutUrl: input.clickUrl(checkout.href),
      unsubscribeUrl: input.unsubscribeUrl,
      trackingPixelUrl: input.channel === 'email' ? (input.trackingPixelUrl ?? null) : null,
    });
  }
}

function shortTitle(title: string): string {
  const chars = [...title];
  return chars.length <= SMS_TITLE_CHARS
    ? title
    : `${chars
        .slice(0, SMS_TITLE_CHARS - 1)
        .join('')
        .trimEnd()}…`;
}

/**
 * What an SMS template sees: the out-of-stock story in short — the first replacement only (the other
 * items carry no `replaces`) and the first sold-out line only, titles cut to {@link SMS_TITLE_CHARS};
 * `stock: false` leaves both out (an SMS that would be too long).
 */
function smsView(view: TemplateView, stock = true): TemplateView {
  const replaced = stock ? view.items.findIndex((i) => i.replaces !== null) : -1;
  return record({
    ...view,
    items: view.items.map((item, i) =>
      i === replaced
        ? record({ ...item, title: shortTitle(item.title), replaces: shortTitle(item.replaces as string) })
        : item.replaces === null
          ? item
          : record({ ...item, replaces: null }),
    ),
    soldOut: stock ? view.soldOut.slice(0, 1).map((s) => record({ ...s, title: shortTitle(s.title) })) : [],
  });
}

/** A null-prototype copy: templates see own data only. */
function record<T extends object>(value: T): T {
  return Object.assign(Object.create(null) as T, value);
}

function httpUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RenderInputError(`${what} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RenderInputError(`${what} must be http(s)`);
  return url;
}

function stepOf(templateId: string): number {
  const m = /-(\d+)$/.exec(templateId);
  return m ? Number(m[1]) : 0;
}

function formatDate(value: string | Date, locale: string, timeZone: string | undefined): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RenderInputError('discount.expiresAt is not a date');
  const zone = timeZone ?? 'UTC';
  try {
    const main = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: zone }).format(
      date,
    );
    return `${main}${zoneSuffix(date, locale, zone)}`;
  } catch {
    return (
      new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date) + ' UTC'
    );
  }
}

function zoneSuffix(date: Date, locale: string, timeZone: string): string {
  const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })
    .formatToParts(date)
    .find((p) => p.type === 'timeZoneName');
  return part ? ` ${part.value}` : '';
}

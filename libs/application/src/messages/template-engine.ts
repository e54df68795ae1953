import { createHash } from 'node:crypto';
import mjml2html from 'mjml';

/**
 * The template engine for recovery messages (R23). Only merchant (or default) templates are
 * compiled; customer values only ever arrive as data. Handlebars runs in an isolated environment
 * without `log`/`lookup`, in strict mode (a misspelt variable is an error, not an empty string),
 * with prototype access off, and HTML output escapes every value. Templates are validated against
 * the view-model schema (template-schema.ts, checks in template-checks.ts) before they are stored, and compiled once per distinct source.
 */
import {
  checkHandlebars,
  checkMarkupPlacement,
  COMPILE_OPTIONS,
  firstLine,
  hb,
  RUNTIME_OPTIONS,
} from './template-checks';
import {
  TemplateError,
  type TemplatePart,
  type TemplateSource,
  type TemplateValidation,
  type TemplateView,
} from './template-schema';

export * from './template-schema';

// ----------------------------------------------------------------------------------------------
// Compilation with a cache keyed by the source hash
// ----------------------------------------------------------------------------------------------

export interface CompiledEmailTemplate {
  readonly channel: 'email';
  subject(view: TemplateView): string;
  html(view: TemplateView): string;
  text(view: TemplateView): string;
}

export interface CompiledSmsTemplate {
  readonly channel: 'sms';
  text(view: TemplateView): string;
}

export type CompiledTemplate = CompiledEmailTemplate | CompiledSmsTemplate;

type Render = (view: TemplateView) => string;

function compileHandlebars(source: string, escapeHtml: boolean): Render {
  const template = hb.compile(source, { ...COMPILE_OPTIONS, noEscape: !escapeHtml });
  return (view) => template(view, RUNTIME_OPTIONS);
}

interface MjmlResult {
  readonly html: string;
  readonly errors: readonly { readonly line: number; readonly message: string }[];
}

/**
 * mjml 4 compiles synchronously; the installed `@types/mjml-core` (5.x, pulled in by
 * `@types/mjml` 4.7.4) describes mjml 5's promise, hence the narrowing here.
 */
const mjmlCompile = mjml2html as unknown as (source: string, options: Record<string, unknown>) => MjmlResult;

function compileMjml(source: string): string {
  let result: MjmlResult;
  try {
    result = mjmlCompile(source, {
      validationLevel: 'strict',
      keepComments: false,
      ignoreIncludes: true,
      minify: false,
      beautify: false,
    });
  } catch (err) {
    // Strict validation throws with the details in `errors` (the message's first line is only its name).
    const first = (err as { errors?: readonly { line?: number; message?: string }[] }).errors?.[0];
    if (first?.message !== undefined) {
      throw new TemplateError('mjml', `is not valid MJML (line ${first.line ?? '?'}): ${first.message.slice(0, 300)}`);
    }
    throw new TemplateError('mjml', `is not valid MJML: ${firstLine(err)}`);
  }
  if (result.errors.length > 0) {
    const e = result.errors[0];
    throw new TemplateError('mjml', `is not valid MJML (line ${e.line}): ${e.message}`);
  }
  return result.html;
}

/** Header values must not break the header: line breaks and other controls become spaces. */
function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/**
 * A subject line given outside a template (a step variant's, RFC 0016): checked like a template's
 * subject and rendered with the same view, on one line.
 */
export function compileSubject(source: string): (view: TemplateView) => string {
  checkHandlebars('subject', source);
  const render = compileHandlebars(source, false);
  return (view) => singleLine(render(view));
}

/** Compiles and checks a template (schema, placement, MJML, a trial render with and without optional data). */
export function compileTemplate(source: TemplateSource): CompiledTemplate {
  if (source.channel === 'sms') {
    checkHandlebars('text', source.text);
    const textRender = compileHandlebars(source.text, false);
    const compiled: CompiledSmsTemplate = { channel: 'sms', text: (view) => textRender(view).trim() };
    trialRender(compiled);
    return compiled;
  }
  checkHandlebars('subject', source.subject);
  checkHandlebars('mjml', source.mjml);
  checkHandlebars('text', source.text);
  checkMarkupPlacement(source.mjml);
  const html = compileMjml(source.mjml);
  const subjectRender = compileHandlebars(source.subject, false);
  const htmlRender = compileHandlebars(html, true);
  const textRender = compileHandlebars(source.text, false);
  const compiled: CompiledEmailTemplate = {
    channel: 'email',
    subject: (view) => singleLine(subjectRender(view)),
    html: htmlRender,
    text: (view) =>
      textRender(view)
        .replace(/\n{3,}/g, '\n\n')
        .trim() + '\n',
  };
  trialRender(compiled);
  return compiled;
}

const SAMPLE_UNSUBSCRIBE = 'https://reclaim.example/u/sample-token';
const SAMPLE_ADDRESS = 'Sample Street 1 Sample City';

function sampleView(withOptional: boolean): TemplateView {
  return {
    subject: 'Sample subject',
    help: !withOptional,
    step: 1,
    shop: { name: 'Sample Shop', domain: 'shop.example', url: 'https://shop.example', postalAddress: SAMPLE_ADDRESS },
    customerName: withOptional ? 'Sample Name' : null,
    items: [
      {
        title: 'Sample product',
        variantTitle: withOptional ? 'Blue' : null,
        imageUrl: withOptional ? 'https://cdn.example/p.png' : null,
        quantity: 2,
        unitPrice: '$10.00',
        lineTotal: '$20.00',
        priceChanged: withOptional,
        replaces: withOptional ? 'Sold-out product' : null,
      },
    ],
    itemCount: 1,
    shipping: withOptional ? { method: 'Standard', estimate: '2-4 business days' } : null,
    soldOut: withOptional
      ? [{ title: 'Sold-out product', variantTitle: 'Red', notifyUrl: 'https://reclaim.example/n/sample-token' }]
      : [],
    cartTotal: '$20.00',
    discount: withOptional ? { code: 'SAVE10', percent: 10, expiresAt: '1 January 2030' } : null,
    checkoutUrl: 'https://reclaim.example/t/c/sample-token',
    unsubscribeUrl: SAMPLE_UNSUBSCRIBE,
    trackingPixelUrl: withOptional ? 'https://reclaim.example/t/o/sample-token.gif' : null,
  };
}

function trialRender(compiled: CompiledTemplate): void {
  for (const withOptional of [true, false]) {
    const view = sampleView(withOptional);
    const parts: [TemplatePart, () => string][] =
      compiled.channel === 'sms'
        ? [['text', () => compiled.text(view)]]
        : [
            ['subject', () => compiled.subject(view)],
            ['mjml', () => compiled.html(view)],
            ['text', () => compiled.text(view)],
          ];
    for (const [field, run] of parts) {
      let out: string;
      try {
        out = run();
      } catch (err) {
        const when = withOptional ? '' : ' (when optional values such as discount are absent: guard them with {{#if}})';
        throw new TemplateError(field, `fails to render${when}: ${firstLine(err)}`);
      }
      if (field === 'subject' && out === '') throw new TemplateError(field, 'renders empty');
      if (compiled.channel === 'email' && field !== 'subject') {
        if (!out.includes(SAMPLE_UNSUBSCRIBE)) throw new TemplateError(field, 'must show {{unsubscribeUrl}} (R25)');
        if (!out.includes(SAMPLE_ADDRESS)) throw new TemplateError(field, 'must show {{shop.postalAddress}} (R25)');
      }
      if (compiled.channel === 'sms' && !/\bSTOP\b/.test(out)) {
        throw new TemplateError(field, 'must tell the recipient to reply STOP to opt out');
      }
    }
  }
}

/** Checks a merchant template before it is saved: `{ ok: true }` or the first problem and where it is. */
export function validateTemplate(source: TemplateSource): TemplateValidation {
  try {
    if (typeof source !== 'object' || source === null) return { ok: false, field: 'text', error: 'not a template' };
    if (source.channel !== 'email' && source.channel !== 'sms') {
      return { ok: false, field: 'text', error: 'channel must be email or sms' };
    }
    defaultCache.get(source);
    return { ok: true };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, field: err.field, error: err.message.replace(/^\w+: /, '') };
    throw err;
  }
}

/** Compiled templates by SHA-256 of their source, least recently used evicted. */
export class TemplateCache {
  private readonly entries = new Map<string, CompiledTemplate>();

  constructor(private capacity = 500) {}

  /** Changes the bound (CACHE_TEMPLATES), evicting the least recently used beyond it. */
  resize(capacity: number): void {
    this.capacity = Math.max(1, capacity);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  static keyOf(source: TemplateSource): string {
    const h = createHash('sha256');
    const parts = source.channel === 'sms' ? ['sms', source.text] : ['email', source.subject, source.mjml, source.text];
    for (const p of parts) h.update(`${Buffer.byteLength(p, 'utf8')}:`).update(p, 'utf8');
    return h.digest('hex');
  }

  get(source: TemplateSource): CompiledTemplate {
    const key = TemplateCache.keyOf(source);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const compiled = compileTemplate(source);
    this.entries.set(key, compiled);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }
}

const defaultCache = new TemplateCache();

/** The process-wide cache (shared by validation and rendering so a saved template is compiled once). */
export function sharedTemplateCache(): TemplateCache {
  return defaultCache;
}

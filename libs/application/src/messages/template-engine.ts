import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';

/**
 * The template engine for recovery messages (R23). Only merchant (or default) templates are
 * compiled; customer values only ever arrive as data. Handlebars runs in an isolated environment
 * without `log`/`lookup`, in strict mode (a misspelt variable is an error, not an empty string),
 * with prototype access off, and HTML output escapes every value. Templates are validated against
 * the view-model schema below before they are stored, and compiled once per distinct source.
 */

type Field =
  | { readonly kind: 'text' }
  | { readonly kind: 'url' }
  | { readonly kind: 'number' }
  | { readonly kind: 'flag' }
  | { readonly kind: 'object'; readonly fields: Fields }
  | { readonly kind: 'list'; readonly item: Fields };
type Fields = Readonly<Record<string, Field>>;

const text: Field = { kind: 'text' };
const url: Field = { kind: 'url' };
const num: Field = { kind: 'number' };
const flag: Field = { kind: 'flag' };

/** Every variable a template may use (null when absent: customerName, variantTitle, imageUrl, discount, trackingPixelUrl). */
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
    },
  },
  itemCount: num,
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

const MAX_SOURCE_LENGTH: Readonly<Record<TemplatePart, number>> = { subject: 1000, mjml: 200_000, text: 50_000 };
const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const LOOP_DATA = new Set(['index', 'first', 'last']);
const URL_ATTRIBUTES =
  /\b(href|src|srcset|background|background-url|action|formaction|poster|xlink:href)\s*=\s*("[^"]*"|'[^']*')/gi;
const STYLE_ATTRIBUTE = /\bstyle\s*=\s*("[^"]*"|'[^']*')/gi;
const STYLE_BLOCK = /<(mj-style|style)\b[^>]*>([\s\S]*?)<\/\1\s*>/gi;

const hb = Handlebars.create();
hb.unregisterHelper('log');
hb.unregisterHelper('lookup');

const COMPILE_OPTIONS = {
  strict: true,
  knownHelpers: { if: true, unless: true, each: true, with: true },
  knownHelpersOnly: true,
  preventIndent: true,
} as const;

const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
};

// ----------------------------------------------------------------------------------------------
// Validation of the Handlebars layer against the schema
// ----------------------------------------------------------------------------------------------

interface Scope {
  readonly fields: Fields;
  readonly inLoop: boolean;
}

type Resolved = Field | { kind: 'loop-data' } | { kind: 'scope'; fields: Fields };

function resolvePath(path: hbs.AST.PathExpression, stack: readonly Scope[]): Resolved {
  const original = path.original;
  if (path.data) {
    const [head, ...rest] = path.parts;
    if (head === 'root') return walk(stack[0].fields, rest, original);
    if (rest.length === 0 && head !== undefined && LOOP_DATA.has(head) && stack[stack.length - 1].inLoop) {
      return { kind: 'loop-data' };
    }
    throw new Error(`unknown data variable "${original}"`);
  }
  if (path.depth >= stack.length) throw new Error(`"${original}" goes above the top level`);
  return walk(stack[stack.length - 1 - path.depth].fields, path.parts, original);
}

function walk(fields: Fields, parts: readonly string[], original: string): Resolved {
  if (parts.length === 0) return { kind: 'scope', fields };
  let current: Fields = fields;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const field = Object.prototype.hasOwnProperty.call(current, part) ? current[part] : undefined;
    if (field === undefined) throw new Error(`unknown variable "${original}"`);
    if (i === parts.length - 1) return field;
    if (field.kind !== 'object') throw new Error(`"${original}": ${parts.slice(0, i + 1).join('.')} has no fields`);
    current = field.fields;
  }
  throw new Error(`unknown variable "${original}"`);
}

function checkStatements(program: hbs.AST.Program, stack: readonly Scope[]): void {
  if (program.blockParams?.length) throw new Error('block parameters (as |x|) are not supported');
  for (const node of program.body) checkStatement(node, stack);
}

function checkStatement(node: hbs.AST.Statement, stack: readonly Scope[]): void {
  switch (node.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return;
    case 'MustacheStatement': {
      const m = node as hbs.AST.MustacheStatement;
      if (!m.escaped) throw new Error('unescaped output ({{{ }}} or {{& }}) is not allowed');
      if (m.params.length > 0 || (m.hash?.pairs?.length ?? 0) > 0) throw new Error('helpers are not allowed in {{ }}');
      if (m.path.type !== 'PathExpression') throw new Error('only variables can be printed');
      const path = m.path as hbs.AST.PathExpression;
      const field = resolvePath(path, stack);
      if (field.kind === 'loop-data') return;
      if (field.kind !== 'text' && field.kind !== 'url' && field.kind !== 'number') {
        throw new Error(`"${path.original}" cannot be printed`);
      }
      return;
    }
    case 'BlockStatement': {
      const b = node as hbs.AST.BlockStatement;
      const helper = b.path.original;
      if (!BLOCK_HELPERS.has(helper) || b.path.data || b.path.parts.length !== 1) {
        throw new Error(`unknown block "{{#${helper}}}" (allowed: if, unless, each, with)`);
      }
      if (b.params.length !== 1 || b.params[0].type !== 'PathExpression' || (b.hash?.pairs?.length ?? 0) > 0) {
        throw new Error(`{{#${helper}}} takes exactly one variable`);
      }
      const param = b.params[0] as hbs.AST.PathExpression;
      const field = resolvePath(param, stack);
      let inner: readonly Scope[] = stack;
      if (helper === 'each') {
        if (field.kind !== 'list') throw new Error(`{{#each}} needs a list; "${param.original}" is not one`);
        inner = [...stack, { fields: field.item, inLoop: true }];
      } else if (helper === 'with') {
        if (field.kind !== 'object') throw new Error(`{{#with}} needs an object; "${param.original}" is not one`);
        inner = [...stack, { fields: field.fields, inLoop: false }];
      }
      if (b.program) checkStatements(b.program, inner);
      if (b.inverse) checkStatements(b.inverse, stack);
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      throw new Error('partials are not allowed');
    case 'DecoratorBlock':
    case 'Decorator':
      throw new Error('decorators are not allowed');
    default:
      throw new Error(`unsupported template construct ${node.type}`);
  }
}

function checkHandlebars(field: TemplatePart, source: string): void {
  if (typeof source !== 'string') throw new TemplateError(field, 'must be a string');
  if (source.trim().length === 0) throw new TemplateError(field, 'must not be empty');
  if (source.length > MAX_SOURCE_LENGTH[field]) {
    throw new TemplateError(field, `is longer than ${MAX_SOURCE_LENGTH[field]} characters`);
  }
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (err) {
    throw new TemplateError(field, `does not parse: ${firstLine(err)}`);
  }
  try {
    checkStatements(ast, [{ fields: TEMPLATE_VARIABLES, inLoop: false }]);
  } catch (err) {
    throw new TemplateError(field, firstLine(err));
  }
}

/** Placement rules that escaping alone cannot make safe (checked on the MJML source). */
function checkMarkupPlacement(source: string): void {
  if (/<\s*script\b/i.test(source)) throw new TemplateError('mjml', '<script> is not allowed');
  if (/<\s*mj-include\b/i.test(source)) throw new TemplateError('mjml', '<mj-include> is not allowed');
  for (const match of source.matchAll(STYLE_BLOCK)) {
    if (match[2].includes('{{')) throw new TemplateError('mjml', 'variables are not allowed inside styles');
  }
  for (const match of source.matchAll(STYLE_ATTRIBUTE)) {
    if (match[1].includes('{{')) throw new TemplateError('mjml', 'variables are not allowed inside style attributes');
  }
  for (const match of source.matchAll(URL_ATTRIBUTES)) {
    for (const expr of match[2].matchAll(/\{\{(.*?)\}\}/g)) {
      const name = expr[1].trim();
      const last = name.split(/[./]/).pop() ?? '';
      if (!/^[A-Za-z@./_-]+$/.test(name) || !isUrlVariable(last)) {
        throw new TemplateError(
          'mjml',
          `only URL variables may be used in ${match[1]}= (checkoutUrl, unsubscribeUrl, trackingPixelUrl, shop.url, imageUrl); found {{${name}}}`,
        );
      }
    }
  }
}

function isUrlVariable(name: string): boolean {
  return ['checkoutUrl', 'unsubscribeUrl', 'trackingPixelUrl', 'url', 'imageUrl'].includes(name);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 300);
}

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
      },
    ],
    itemCount: 1,
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

  constructor(private readonly capacity = 500) {}

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

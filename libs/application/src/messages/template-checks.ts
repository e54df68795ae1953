/**
 * Static checks of a template before it is compiled or stored (R23): the Handlebars layer against
 * the view-model schema (strict paths, block helpers only, loop data only in loops), and placement
 * rules on the MJML source that escaping alone cannot make safe (no script, no variables in styles,
 * only URL variables in URL attributes). Also the isolated Handlebars environment they share with
 * the compiler.
 */
import Handlebars from 'handlebars';
import { TEMPLATE_VARIABLES, TemplateError, type Field, type Fields, type TemplatePart } from './template-schema';

const MAX_SOURCE_LENGTH: Readonly<Record<TemplatePart, number>> = { subject: 1000, mjml: 200_000, text: 50_000 };
const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const LOOP_DATA = new Set(['index', 'first', 'last']);
const URL_ATTRIBUTES =
  /\b(href|src|srcset|background|background-url|action|formaction|poster|xlink:href)\s*=\s*("[^"]*"|'[^']*')/gi;
const STYLE_ATTRIBUTE = /\bstyle\s*=\s*("[^"]*"|'[^']*')/gi;
const STYLE_BLOCK = /<(mj-style|style)\b[^>]*>([\s\S]*?)<\/\1\s*>/gi;

export const hb = Handlebars.create();
hb.unregisterHelper('log');
hb.unregisterHelper('lookup');

export const COMPILE_OPTIONS = {
  strict: true,
  knownHelpers: { if: true, unless: true, each: true, with: true },
  knownHelpersOnly: true,
  preventIndent: true,
} as const;

export const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
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

export function checkHandlebars(field: TemplatePart, source: string): void {
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
export function checkMarkupPlacement(source: string): void {
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
          `only URL variables may be used in ${match[1]}= (checkoutUrl, unsubscribeUrl, trackingPixelUrl, shop.url, imageUrl, notifyUrl); found {{${name}}}`,
        );
      }
    }
  }
}

function isUrlVariable(name: string): boolean {
  return ['checkoutUrl', 'unsubscribeUrl', 'trackingPixelUrl', 'url', 'imageUrl', 'notifyUrl'].includes(name);
}

export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 300);
}

/**
 * A small renderer for the subset of Klaviyo's (Django-like) template language the example template
 * in docs/klaviyo-template.html uses, so a test can render it against a real event:
 *
 * - `{{ a.b.c }}` and `{{ a.b|default:'text' }}`: a variable (HTML-escaped, as Klaviyo does; missing
 *   or null renders empty, or the default);
 * - `{% if expr %}…{% else %}…{% endif %}` with `expr` a variable (truthy: not null, false, 0, '' or
 *   an empty list) or `variable == literal` (number or quoted string);
 * - `{% for item in a.b %}…{% endfor %}`.
 *
 * Anything else (another tag, another filter, an unclosed block) throws: a template using more than
 * this subset fails the test instead of rendering something this renderer does not understand.
 */
type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'var'; readonly path: string; readonly fallback?: string }
  | { readonly kind: 'if'; readonly cond: string; readonly then: Node[]; readonly otherwise: Node[] }
  | { readonly kind: 'for'; readonly name: string; readonly path: string; readonly body: Node[] };

const TOKEN = /\{\{\s*(.*?)\s*\}\}|\{%\s*(.*?)\s*%\}/gs;

function parse(source: string): Node[] {
  const root: Node[] = [];
  const stack: { nodes: Node[]; open?: { tag: 'if' | 'for'; node: Node } }[] = [{ nodes: root }];
  let last = 0;
  const top = () => stack[stack.length - 1]!;
  for (const m of source.matchAll(TOKEN)) {
    if (m.index! > last) top().nodes.push({ kind: 'text', text: source.slice(last, m.index) });
    last = m.index! + m[0].length;
    if (m[1] !== undefined) {
      const v = /^([A-Za-z_][\w.]*)(?:\|default:'([^']*)')?$/.exec(m[1]);
      if (!v) throw new Error(`unsupported variable expression: {{ ${m[1]} }}`);
      top().nodes.push({ kind: 'var', path: v[1]!, ...(v[2] !== undefined ? { fallback: v[2] } : {}) });
      continue;
    }
    const tag = m[2]!;
    let t: RegExpExecArray | null;
    if ((t = /^if\s+(.+)$/.exec(tag))) {
      const node: Node = { kind: 'if', cond: t[1]!, then: [], otherwise: [] };
      top().nodes.push(node);
      stack.push({ nodes: node.then, open: { tag: 'if', node } });
    } else if (tag === 'else') {
      const open = top().open;
      if (open?.tag !== 'if' || open.node.kind !== 'if') throw new Error('{% else %} outside {% if %}');
      stack.pop();
      stack.push({ nodes: open.node.otherwise, open });
    } else if (tag === 'endif' || tag === 'endfor') {
      if (top().open?.tag !== tag.slice(3)) throw new Error(`unexpected {% ${tag} %}`);
      stack.pop();
    } else if ((t = /^for\s+([A-Za-z_]\w*)\s+in\s+([A-Za-z_][\w.]*)$/.exec(tag))) {
      const node: Node = { kind: 'for', name: t[1]!, path: t[2]!, body: [] };
      top().nodes.push(node);
      stack.push({ nodes: node.body, open: { tag: 'for', node } });
    } else {
      throw new Error(`unsupported tag: {% ${tag} %}`);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed {% ${top().open?.tag} %}`);
  if (last < source.length) root.push({ kind: 'text', text: source.slice(last) });
  return root;
}

type Scope = Readonly<Record<string, unknown>>;

function lookup(scope: Scope, path: string): unknown {
  let value: unknown = scope;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const truthy = (v: unknown) =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0));

function evaluate(cond: string, scope: Scope): boolean {
  const eq = /^([A-Za-z_][\w.]*)\s*==\s*(?:(-?\d+(?:\.\d+)?)|'([^']*)')$/.exec(cond);
  if (eq) return lookup(scope, eq[1]!) === (eq[2] !== undefined ? Number(eq[2]) : eq[3]);
  if (!/^[A-Za-z_][\w.]*$/.test(cond)) throw new Error(`unsupported condition: ${cond}`);
  return truthy(lookup(scope, cond));
}

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

function render(nodes: readonly Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'var') {
      const v = lookup(scope, n.path);
      out += v === undefined || v === null || v === '' ? escape(n.fallback ?? '') : escape(String(v));
    } else if (n.kind === 'if') out += render(evaluate(n.cond, scope) ? n.then : n.otherwise, scope);
    else {
      const list = lookup(scope, n.path);
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new Error(`{% for %} over a non-list: ${n.path}`);
      for (const item of list) out += render(n.body, { ...scope, [n.name]: item });
    }
  }
  return out;
}

/** Renders `source` with `context` (e.g. `{ event: properties, person: { first_name } }`). */
export function renderDjangoSubset(source: string, context: Scope): string {
  return render(parse(source), context);
}

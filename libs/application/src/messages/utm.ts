import type { Channel } from '@reclaim/domain';

/**
 * UTM parameters on the shop links of a recovery message, so the merchant's own analytics (GA4,
 * Mixpanel, …) see the visits a recovery brings. Added to the destination before it is signed into
 * the click token (`/t/c/<token>`), so the redirect lands on the URL with them. Parameters the
 * merchant already put on a URL are kept: each `utm_*` key is only added when the URL lacks it.
 *
 * Patterns may use `{sequence}`, `{step}`, `{template}`, `{channel}` and `{kind}` (sales | help).
 */
export interface UtmSettings {
  /** Off: links are left exactly as the shop gave them. */
  readonly enabled: boolean;
  readonly source: string;
  readonly medium: { readonly email: string; readonly sms: string };
  /** Pattern of `utm_campaign`. */
  readonly campaign: string;
  /** Pattern of `utm_content`; `null` = no `utm_content`. */
  readonly content: string | null;
}

/** What a shop may store (`utm` in the shop settings); everything unset falls back to {@link DEFAULT_UTM}. */
export interface UtmOverrides {
  readonly enabled?: boolean;
  readonly source?: string;
  readonly medium?: { readonly email?: string; readonly sms?: string };
  readonly campaign?: string;
  readonly content?: string | null;
}

export const DEFAULT_UTM: UtmSettings = {
  enabled: true,
  source: 'reclaim',
  medium: { email: 'email', sms: 'sms' },
  campaign: '{sequence}-step-{step}',
  content: '{template}',
};

export const UTM_PLACEHOLDERS = ['sequence', 'step', 'template', 'channel', 'kind'] as const;
export type UtmPlaceholder = (typeof UTM_PLACEHOLDERS)[number];

/** What one message is: the values the patterns are filled with. */
export interface UtmMessage {
  readonly channel: Channel;
  /** The recovery's sequence id (`default` when none was selected). */
  readonly sequenceId: string | undefined;
  readonly step: number;
  readonly templateId: string;
  readonly kind: 'sales' | 'help';
}

export type UtmParameters = Readonly<Record<`utm_${string}`, string>>;

const MAX_VALUE = 100;
const PLACEHOLDER = /\{([^{}]*)\}/g;

export function utmSettingsOf(overrides: UtmOverrides | undefined): UtmSettings {
  if (overrides === undefined) return DEFAULT_UTM;
  return {
    enabled: overrides.enabled ?? DEFAULT_UTM.enabled,
    source: overrides.source ?? DEFAULT_UTM.source,
    medium: { ...DEFAULT_UTM.medium, ...overrides.medium },
    campaign: overrides.campaign ?? DEFAULT_UTM.campaign,
    content: overrides.content === undefined ? DEFAULT_UTM.content : overrides.content,
  };
}

function fill(pattern: string, message: UtmMessage): string {
  const values: Record<UtmPlaceholder, string> = {
    sequence: message.sequenceId ?? 'default',
    step: String(message.step),
    template: message.templateId,
    channel: message.channel,
    kind: message.kind,
  };
  return pattern.replace(PLACEHOLDER, (_m, name: string) => values[name as UtmPlaceholder] ?? '').slice(0, 200);
}

/** The `utm_*` parameters of one message, or none when the shop switched them off. */
export function utmParametersFor(settings: UtmSettings, message: UtmMessage): UtmParameters | undefined {
  if (!settings.enabled) return undefined;
  const params: Record<string, string> = {
    utm_source: settings.source,
    utm_medium: message.channel === 'push' ? 'push' : settings.medium[message.channel],
    utm_campaign: fill(settings.campaign, message),
  };
  if (settings.content !== null) {
    const content = fill(settings.content, message);
    if (content !== '') params.utm_content = content;
  }
  return params;
}

/** `url` with each of `params` the URL does not carry yet (the merchant's own `utm_*` are kept). */
export function withUtm(url: URL, params: UtmParameters | undefined): URL {
  if (params === undefined) return url;
  const out = new URL(url.href);
  for (const [key, value] of Object.entries(params)) {
    if (!out.searchParams.has(key) && value !== '') out.searchParams.set(key, value);
  }
  return out;
}

const hasControl = (v: string): boolean => [...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Validates a stored `utm` setting; errors name each bad field under `field`. */
export function validateUtmOverrides(input: unknown, field = 'utm'): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ field, message: 'must be an object { enabled, source, medium: { email, sms }, campaign, content }' }];
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['enabled', 'source', 'medium', 'campaign', 'content'].includes(key)) {
      errors.push({ field: `${field}.${key}`, message: 'is not a UTM setting' });
    }
  }
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') {
    errors.push({ field: `${field}.enabled`, message: 'must be a boolean' });
  }
  const value = (v: unknown, name: string, patterned: boolean) => {
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_VALUE || hasControl(v)) {
      errors.push({ field: name, message: `must be a non-empty string of at most ${MAX_VALUE} printable characters` });
      return;
    }
    for (const m of v.matchAll(PLACEHOLDER)) {
      if (!patterned || !(UTM_PLACEHOLDERS as readonly string[]).includes(m[1])) {
        errors.push({
          field: name,
          message: patterned
            ? `unknown placeholder {${m[1]}}: use ${UTM_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`
            : 'takes no placeholders',
        });
      }
    }
    if (/[{}]/.test(v.replace(PLACEHOLDER, ''))) errors.push({ field: name, message: 'has an unmatched brace' });
  };
  if (o.source !== undefined) value(o.source, `${field}.source`, false);
  if (o.medium !== undefined) {
    const m = o.medium as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      errors.push({ field: `${field}.medium`, message: 'must be { "email": "…", "sms": "…" }' });
    } else {
      for (const key of Object.keys(m)) {
        if (key !== 'email' && key !== 'sms')
          errors.push({ field: `${field}.medium.${key}`, message: 'is not a channel' });
        else value(m[key], `${field}.medium.${key}`, false);
      }
    }
  }
  if (o.campaign !== undefined) value(o.campaign, `${field}.campaign`, true);
  if (o.content !== undefined && o.content !== null) value(o.content, `${field}.content`, true);
  return errors;
}

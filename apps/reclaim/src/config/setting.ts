/**
 * The declarative half of the configuration schema: every property of `AppConfig` carries a
 * `@Setting({...})` with its description, group and secret flag; its default is the property's
 * initial value. `loadConfig` reads exactly these names, and `npm run config:docs` writes the README
 * table, `.env.example` and the `reclaim` service's environment in `compose.yaml` from them
 * (a test fails when any of the three disagrees).
 */
export type SettingGroup = 'appliance' | 'recovery' | 'read-models' | 'providers';

export const SETTING_GROUPS: Readonly<Record<SettingGroup, string>> = {
  appliance: 'appliance',
  recovery: 'recovery engine (per-shop settings through the admin API override these)',
  'read-models': 'read models and health',
  providers: 'providers (e-mail, SMS, tickets, store APIs)',
};

export interface SettingSpec {
  /** One plain sentence for the README table and `.env.example`. */
  readonly description: string;
  readonly group: SettingGroup;
  /** A password, token, key or a URL that embeds one: never logged; `NAME_FILE` may hold it instead. */
  readonly secret?: boolean;
  /** The default as a merchant reads it, when it is not a plain value (`generated into DATA_DIR/admin-token`). */
  readonly defaultText?: string;
  /** The `reclaim` service's value in compose.yaml when not `${NAME:-default}` (the bundle's own wiring). */
  readonly compose?: string;
  /** `.env.example`: a value to show (commented out) instead of the default. */
  readonly example?: string;
}

export interface SettingInfo extends SettingSpec {
  readonly name: string;
}

const declared: SettingInfo[] = [];

/** Declares the decorated `AppConfig` property as an environment variable (its name is the property's). */
export function Setting(spec: SettingSpec): PropertyDecorator {
  return (_target: object, propertyKey: string | symbol) => {
    const name = String(propertyKey);
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`setting ${name}: names are UPPER_SNAKE_CASE`);
    if (declared.some((s) => s.name === name)) throw new Error(`setting ${name}: declared twice`);
    if (name.endsWith('_FILE')) throw new Error(`setting ${name}: the _FILE suffix is reserved for secrets`);
    declared.push({ name, ...spec });
  };
}

/** The declared settings, in declaration order. */
export function declaredSettings(): readonly SettingInfo[] {
  return declared;
}

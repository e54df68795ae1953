import { CURRENT_SCHEMA_VERSIONS } from './catalogue';
import type { DomainEvent } from './envelope';
import { recoveryArm } from '../recovery/arms';
import type { SendMode } from '../recovery/pre-send';

/**
 * Old events are upcast on read, never rewritten. An upcaster turns the data of version N of a
 * type into version N+1; the registry chains them up to the current version. Only v1 exists
 * today; the first schema change registers `register(type, 1, v1 => v2)` and bumps
 * CURRENT_SCHEMA_VERSIONS. Registered steps are listed below the domain registry.
 */
export type Upcaster = (data: any) => unknown;

export class UnknownSchemaVersionError extends Error {
  constructor(
    readonly type: string,
    readonly schemaVersion: number,
    readonly reason: string,
  ) {
    super(`Cannot read ${type} v${schemaVersion}: ${reason}`);
    this.name = 'UnknownSchemaVersionError';
  }
}

export class UpcasterRegistry {
  private readonly current = new Map<string, number>();
  private readonly steps = new Map<string, Map<number, Upcaster>>();

  constructor(currentVersions: Readonly<Record<string, number>> = {}) {
    for (const [type, version] of Object.entries(currentVersions)) this.current.set(type, version);
  }

  /** Declares (or raises) the current version of a type (e.g. a test's own catalogue). */
  declare(type: string, currentVersion: number): this {
    this.current.set(type, currentVersion);
    return this;
  }

  /** Registers the step from `fromVersion` to `fromVersion + 1`. */
  register(type: string, fromVersion: number, upcaster: Upcaster): this {
    let byVersion = this.steps.get(type);
    if (!byVersion) this.steps.set(type, (byVersion = new Map()));
    if (byVersion.has(fromVersion)) throw new Error(`Upcaster ${type} v${fromVersion} is registered twice`);
    byVersion.set(fromVersion, upcaster);
    return this;
  }

  currentVersion(type: string): number | undefined {
    return this.current.get(type);
  }

  /**
   * Returns the event at its type's current version. Types the registry does not know are
   * returned unchanged (they belong to another catalogue). A version newer than current was
   * written by newer code and is refused rather than misread.
   */
  upcast<E extends DomainEvent = DomainEvent>(stored: DomainEvent): E {
    const target = this.current.get(stored.type);
    if (target === undefined) return stored as E;
    let version = stored.schemaVersion ?? 1;
    if (!Number.isInteger(version)) throw new UnknownSchemaVersionError(stored.type, version, 'not an integer version');
    if (version > target) {
      throw new UnknownSchemaVersionError(stored.type, version, `newer than the current version ${target}`);
    }
    let data: unknown = stored.data;
    while (version < target) {
      const step = this.steps.get(stored.type)?.get(version);
      if (!step) throw new UnknownSchemaVersionError(stored.type, version, `no upcaster to v${version + 1}`);
      data = step(data);
      version += 1;
    }
    return (
      version === stored.schemaVersion && data === stored.data ? stored : { ...stored, schemaVersion: version, data }
    ) as E;
  }
}

/** The registry for the domain catalogue. */
export const domainUpcasters = new UpcasterRegistry(CURRENT_SCHEMA_VERSIONS)
  // recovery.started v1 → v2: the experiment arm, from the holdout and rollout draws v1 recorded.
  .register('recovery.started', 1, (d: { holdout: boolean; mode: SendMode }) => ({
    ...d,
    arm: recoveryArm(d.holdout, d.mode),
  }))
  // recovery.started v2 → v3: the arm's propensity and the shares it was drawn with were not logged.
  .register('recovery.started', 2, (d: object) => ({
    ...d,
    propensity: null,
    holdoutPercent: null,
    rolloutPercent: null,
  }));

export function upcastEvent<E extends DomainEvent = DomainEvent>(stored: DomainEvent): E {
  return domainUpcasters.upcast<E>(stored);
}

/**
 * Emmett-style decider: pure functions over discriminated unions. `decide` returns the events a
 * command causes (possibly none) or throws a {@link DomainError}; `evolve` folds one event into
 * the state; `initialState` is the state of an empty stream.
 */
export interface Decider<State, Command, Event> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
}

/** Folds events into a state. */
export function foldEvents<State, Event>(
  decider: Pick<Decider<State, unknown, Event>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State {
  return events.reduce(decider.evolve, decider.initialState());
}

/**
 * A command that cannot be accepted as sent (bad money, bad currency, bad timestamp). The
 * application turns it into `webhook.quarantined` with this reason and field (R12).
 */
export class InvalidCommandError extends Error {
  constructor(
    readonly reason: string,
    readonly field: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidCommandError';
  }
}

/** Remembers the last causation ids a stream has seen, so a duplicate delivery decides nothing. */
export const SEEN_CAUSATIONS_LIMIT = 64;

export function rememberCausation(seen: readonly string[], causationId: string): readonly string[] {
  if (seen.includes(causationId)) return seen;
  const next = [...seen, causationId];
  return next.length > SEEN_CAUSATIONS_LIMIT ? next.slice(next.length - SEEN_CAUSATIONS_LIMIT) : next;
}

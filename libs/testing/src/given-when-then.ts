import type { Decider } from '@reclaim/domain';

/**
 * Given/when/then for deciders, in the shape of Emmett's DeciderSpecification (our own small
 * implementation):
 *
 *   const spec = DeciderSpecification.for(cartDecider);
 *   spec.given([activity]).when(markPurchased).then([purchasedEvent]);
 *   spec.given([]).when(badCommand).thenThrows(InvalidCommandError, (e) => e.field === 'total');
 *   spec.given([purchased]).when(activity).thenNothing();
 *   spec.given(log).when(timerFired).thenMatches([{ type: 'recovery.step-due', data: { step: 0 } }]);
 *
 * `given` events are folded with `evolve` from `initialState`; `when` runs `decide` once.
 * Assertions use jest's `expect`, so failures show a structural diff.
 */
export interface DeciderThen<State, Event> {
  /** The command produced exactly these events (deep equality, order matters). */
  then(expected: readonly Event[]): void;
  /**
   * The command produced exactly as many events as expected, in order, each with the expected
   * `type` (and `schemaVersion` when given) and at least the expected `data` fields (each of
   * them deeply equal). Returns the events produced.
   */
  thenMatches(expected: readonly EventPattern<Event>[]): Event[];
  /** The command produced no event. */
  thenNothing(): void;
  /** The command threw; optionally of this class and satisfying the predicate. */
  thenThrows<E extends Error = Error>(
    errorClass?: abstract new (...args: any[]) => E,
    predicate?: (error: E) => boolean,
  ): void;
  /** Escape hatch: the produced events and the state after applying them. */
  thenState(assert: (state: State, events: readonly Event[]) => void): void;
}

/** An enveloped event with only the fields a test cares about. */
export type EventPattern<Event> = Event extends { readonly type: infer T; readonly data: infer D }
  ? { readonly type: T; readonly schemaVersion?: number; readonly data?: { readonly [K in keyof D]?: unknown } }
  : Partial<Event>;

function matcherOf(pattern: object): unknown {
  const { data, ...envelope } = pattern as { data?: object };
  return expect.objectContaining({
    ...envelope,
    ...(data !== undefined ? { data: expect.objectContaining(data) } : {}),
  });
}

export interface DeciderWhen<State, Command, Event> {
  when(command: Command): DeciderThen<State, Event>;
}

export class DeciderSpecification<State, Command, Event> {
  private constructor(private readonly decider: Decider<State, Command, Event>) {}

  static for<State, Command, Event>(
    decider: Decider<State, Command, Event>,
  ): DeciderSpecification<State, Command, Event> {
    return new DeciderSpecification(decider);
  }

  given(events: readonly Event[] = []): DeciderWhen<State, Command, Event> {
    const { decider } = this;
    return {
      when(command: Command): DeciderThen<State, Event> {
        const run = (): { state: State; events: Event[] } => {
          const state = events.reduce<State>((s, e) => decider.evolve(s, e), decider.initialState());
          return { state, events: decider.decide(command, state) };
        };
        return {
          then(expected) {
            expect(run().events).toEqual(expected);
          },
          thenMatches(expected) {
            const produced = run().events;
            expect(produced).toEqual(expected.map((e) => matcherOf(e as object)));
            return produced;
          },
          thenNothing() {
            expect(run().events).toEqual([]);
          },
          thenThrows(errorClass, predicate) {
            let thrown: unknown;
            let produced: Event[] | undefined;
            try {
              produced = run().events;
            } catch (e) {
              thrown = e;
            }
            if (produced !== undefined) {
              throw new Error(`Expected the command to throw, but it produced ${produced.length} event(s)`);
            }
            if (errorClass) expect(thrown).toBeInstanceOf(errorClass);
            if (predicate && !predicate(thrown as never)) {
              throw new Error(`The thrown error did not satisfy the predicate: ${String(thrown)}`);
            }
          },
          thenState(assert) {
            const { state, events: produced } = run();
            assert(
              produced.reduce<State>((s, e) => decider.evolve(s, e), state),
              produced,
            );
          },
        };
      },
    };
  }
}

import type { Decider } from '@reclaim/domain';
import { DeciderSpecification } from './given-when-then';

type Command = { kind: 'add'; n: number } | { kind: 'fail' };
type Event = { type: 'added'; n: number };
const counter: Decider<number, Command, Event> = {
  initialState: () => 0,
  evolve: (s, e) => s + e.n,
  decide: (c, s) => {
    if (c.kind === 'fail') throw new RangeError(`failed at ${s}`);
    return c.n === 0 ? [] : [{ type: 'added', n: c.n }];
  },
};
const spec = DeciderSpecification.for(counter);

describe('DeciderSpecification', () => {
  it('passes when the decided events match, and fails when they do not', () => {
    spec
      .given([{ type: 'added', n: 1 }])
      .when({ kind: 'add', n: 2 })
      .then([{ type: 'added', n: 2 }]);
    expect(() =>
      spec
        .given([])
        .when({ kind: 'add', n: 2 })
        .then([{ type: 'added', n: 3 }]),
    ).toThrow();
    expect(() => spec.given([]).when({ kind: 'add', n: 2 }).thenNothing()).toThrow();
    spec.given([]).when({ kind: 'add', n: 0 }).thenNothing();
  });

  it('checks thrown errors by class and predicate, and fails when nothing is thrown', () => {
    spec
      .given([{ type: 'added', n: 5 }])
      .when({ kind: 'fail' })
      .thenThrows(RangeError, (e) => e.message === 'failed at 5');
    expect(() => spec.given([]).when({ kind: 'fail' }).thenThrows(TypeError)).toThrow();
    expect(() =>
      spec
        .given([])
        .when({ kind: 'fail' })
        .thenThrows(RangeError, () => false),
    ).toThrow('predicate');
    expect(() => spec.given([]).when({ kind: 'add', n: 1 }).thenThrows()).toThrow('produced 1 event');
  });

  it('exposes the resulting state', () => {
    spec
      .given([{ type: 'added', n: 1 }])
      .when({ kind: 'add', n: 2 })
      .thenState((state, events) => {
        expect(state).toBe(3);
        expect(events).toHaveLength(1);
      });
  });
});

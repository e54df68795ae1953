import type { Decider } from '@reclaim/domain';
import { DeciderSpecification } from './given-when-then';

type Command = { type: 'add'; n: number } | { type: 'fail' };
type Event = { type: 'added'; n: number };
const counter: Decider<number, Command, Event> = {
  initialState: () => 0,
  evolve: (s, e) => s + e.n,
  decide: (c, s) => {
    if (c.type === 'fail') throw new RangeError(`failed at ${s}`);
    return c.n === 0 ? [] : [{ type: 'added', n: c.n }];
  },
};
const spec = DeciderSpecification.for(counter);

describe('DeciderSpecification', () => {
  it('passes when the decided events match, and fails when they do not', () => {
    spec
      .given([{ type: 'added', n: 1 }])
      .when({ type: 'add', n: 2 })
      .then([{ type: 'added', n: 2 }]);
    expect(() =>
      spec
        .given([])
        .when({ type: 'add', n: 2 })
        .then([{ type: 'added', n: 3 }]),
    ).toThrow();
    expect(() => spec.given([]).when({ type: 'add', n: 2 }).thenNothing()).toThrow();
    spec.given([]).when({ type: 'add', n: 0 }).thenNothing();
  });

  it('checks thrown errors by class and predicate, and fails when nothing is thrown', () => {
    spec
      .given([{ type: 'added', n: 5 }])
      .when({ type: 'fail' })
      .thenThrows(RangeError, (e) => e.message === 'failed at 5');
    expect(() => spec.given([]).when({ type: 'fail' }).thenThrows(TypeError)).toThrow();
    expect(() =>
      spec
        .given([])
        .when({ type: 'fail' })
        .thenThrows(RangeError, () => false),
    ).toThrow('predicate');
    expect(() => spec.given([]).when({ type: 'add', n: 1 }).thenThrows()).toThrow('produced 1 event');
  });

  it('exposes the resulting state', () => {
    spec
      .given([{ type: 'added', n: 1 }])
      .when({ type: 'add', n: 2 })
      .thenState((state, events) => {
        expect(state).toBe(3);
        expect(events).toHaveLength(1);
      });
  });

  it('matches enveloped events by type and the data fields given, each deeply equal', () => {
    type Stored = { type: 'moved'; schemaVersion: number; data: { by: number; to: { x: number; y: number } } };
    const mover: Decider<number, { type: 'move'; by: number }, Stored> = {
      initialState: () => 0,
      evolve: (s, e) => s + e.data.by,
      decide: (c, s) => [{ type: 'moved', schemaVersion: 1, data: { by: c.by, to: { x: s + c.by, y: 0 } } }],
    };
    const moves = DeciderSpecification.for(mover);
    const produced = moves
      .given([])
      .when({ type: 'move', by: 2 })
      .thenMatches([{ type: 'moved', data: { by: 2 } }]);
    expect(produced).toHaveLength(1);
    moves
      .given([])
      .when({ type: 'move', by: 2 })
      .thenMatches([{ type: 'moved', schemaVersion: 1, data: { to: { x: 2, y: 0 } } }]);
    expect(() =>
      moves
        .given([])
        .when({ type: 'move', by: 2 })
        .thenMatches([{ type: 'moved', data: { by: 3 } }]),
    ).toThrow();
    expect(() =>
      moves
        .given([])
        .when({ type: 'move', by: 2 })
        .thenMatches([{ type: 'moved', data: { to: { x: 2 } } }]),
    ).toThrow();
    expect(() =>
      moves
        .given([])
        .when({ type: 'move', by: 2 })
        .thenMatches([{ type: 'moved', schemaVersion: 2 }]),
    ).toThrow();
    expect(() => moves.given([]).when({ type: 'move', by: 2 }).thenMatches([])).toThrow();
  });
});

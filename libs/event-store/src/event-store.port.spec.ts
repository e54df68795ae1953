import { randomUUID } from 'node:crypto';
import {
  comparePositions,
  parsePosition,
  positionToString,
  START,
  WrongExpectedRevisionError,
} from './event-store.port';
import { validateAppend } from './validation';

describe('positions', () => {
  it('round-trip through their string form, single and commit/prepare', () => {
    for (const p of [START, { commit: 42n, prepare: 42n }, { commit: 9007199254740993n, prepare: 9007199254740991n }]) {
      expect(parsePosition(positionToString(p))).toEqual(p);
    }
    expect(positionToString({ commit: 7n, prepare: 7n })).toBe('7');
    expect(positionToString({ commit: 8n, prepare: 5n })).toBe('8/5');
  });

  it('order by commit, then prepare', () => {
    expect(comparePositions({ commit: 1n, prepare: 9n }, { commit: 2n, prepare: 0n })).toBe(-1);
    expect(comparePositions({ commit: 2n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(1);
    expect(comparePositions(START, START)).toBe(0);
  });
});

describe('WrongExpectedRevisionError', () => {
  it('names the stream and both revisions', () => {
    const e = new WrongExpectedRevisionError('cart-1', 3n, 'no_stream');
    expect(e.message).toBe('Wrong expected revision on cart-1: expected 3, actual no_stream');
    expect(e.name).toBe('WrongExpectedRevisionError');
  });
});

describe('validateAppend', () => {
  const ok = { id: randomUUID(), type: 'CartCreated', schemaVersion: 1, data: {} };
  it('accepts a well-formed append', () => {
    expect(() => validateAppend('cart-1', [ok])).not.toThrow();
  });
  it.each([
    ['an empty stream id', '', [ok]],
    ['a system stream', '$all', [ok]],
    ['no events', 'cart-1', []],
    ['a non-UUID id', 'cart-1', [{ ...ok, id: '123' }]],
    ['a repeated id', 'cart-1', [ok, { ...ok }]],
    ['an empty type', 'cart-1', [{ ...ok, type: '' }]],
    ['a NUL in the type', 'cart-1', [{ ...ok, type: 'A\u0000' }]],
    ['schemaVersion 0', 'cart-1', [{ ...ok, schemaVersion: 0 }]],
    ['a fractional schemaVersion', 'cart-1', [{ ...ok, schemaVersion: 1.5 }]],
  ])('refuses %s', (_, stream, events) => {
    expect(() => validateAppend(stream as string, events as never)).toThrow();
  });
});

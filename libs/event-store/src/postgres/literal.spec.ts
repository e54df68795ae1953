import fc from 'fast-check';
import { escapeLiteral } from 'pg';
import { sqlLiteral } from './postgres-event-store';

describe('sqlLiteral (the string constants of the batch INSERT)', () => {
  it("writes exactly what pg's escapeLiteral writes", () => {
    const text = fc
      .array(fc.oneof(fc.constantFrom("'", '\\', "\\'", '"', 'E', '\n'), fc.string({ unit: 'binary', maxLength: 3 })), {
        maxLength: 20,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (s) => expect(sqlLiteral(s)).toBe(escapeLiteral(s))),
      { numRuns: 3000 },
    );
    for (const s of ["o'brien", 'back\\slash', "\\'", '']) expect(sqlLiteral(s)).toBe(escapeLiteral(s));
  });
});

import type { Pool } from 'pg';
import { ApiTokens } from './api-tokens';

/** A pool that answers every grant look-up with one active token and counts the round trips. */
function countingPool(): { pool: Pool; queries: () => number } {
  let n = 0;
  const pool = {
    query: async () => {
      n++;
      return {
        rows: [{ id: 't', name: 'n', role: 'admin', shop_ids: null, created_at: new Date(), revoked_at: null }],
      };
    },
  } as unknown as Pool;
  return { pool, queries: () => n };
}

describe('ApiTokens grant cache (CACHE_API_TOKENS)', () => {
  it('keeps at most maxEntries grants, evicting the least recently used', async () => {
    const { pool, queries } = countingPool();
    const tokens = new ApiTokens(pool, 2);
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    const c = Buffer.from('c');
    await tokens.grantFor(a);
    await tokens.grantFor(b);
    await tokens.grantFor(a); // hit: a is now the most recently used
    expect(queries()).toBe(2);
    await tokens.grantFor(c); // evicts b, the least recently used
    expect(queries()).toBe(3);
    await tokens.grantFor(a); // still cached
    expect(queries()).toBe(3);
    await tokens.grantFor(b); // was evicted: asked again
    expect(queries()).toBe(4);
  });
});

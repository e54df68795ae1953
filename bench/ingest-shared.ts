/** Shared by the bench:ingest load generator and its server process. */
export const BENCH_SECRET = 'bench-secret-0123456789';
export const BENCH_DOMAIN = 'bench.myshopify.com';

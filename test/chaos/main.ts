/**
 * `npm run chaos -- [--deliveries N] [--kills N] [--outages N] [--seed N] [--keep]`
 *
 * Replays a seeded recording of signed deliveries against the real appliance (a child process)
 * while it SIGKILLs and restarts it and takes its PostgreSQL away, then checks the invariants of
 * the reliability catalogue from the database. Uses DATABASE_URL (a PostgreSQL server: the run
 * creates its own database on it) or, without it, an embedded PostgreSQL it stops and starts.
 * Exits 1 when an invariant is broken.
 */
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { formatReport, runChaos } from './chaos';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string', default: '1000' },
      kills: { type: 'string', default: '3' },
      outages: { type: 'string', default: '1' },
      seed: { type: 'string', default: '42' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  const bar = new SingleBar(
    { format: 'chaos [{bar}] {percentage}% | {value}/{total} deliveries | {note}', hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  const report = await runChaos({
    deliveries: int('deliveries', values.deliveries, 10),
    kills: int('kills', values.kills, 0),
    outages: int('outages', values.outages, 0),
    seed: int('seed', values.seed, 0),
    keep: values.keep,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    log: (line) => console.error(started ? `\n${line}` : line),
    onProgress: (done, total, note) => {
      if (!started) {
        bar.start(total, 0, { note });
        started = true;
      }
      bar.update(done, { note });
    },
  });
  if (started) bar.stop();
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);

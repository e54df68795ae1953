/**
 * `npm run config:docs`: writes the README configuration table, `.env.example` and the `reclaim`
 * service's environment in `compose.yaml` from the configuration schema. `-- --check` only reports
 * drift (exit 1), as `apps/reclaim/src/config/config-docs.spec.ts` does in the test suite.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COMPOSE_BEGIN,
  COMPOSE_END,
  README_BEGIN,
  README_END,
  renderComposeEnvironment,
  renderEnvExample,
  renderReadmeTable,
  replaceBetween,
} from '../apps/reclaim/src/config/config-docs';

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const check = process.argv.includes('--check');
  const { format, resolveConfig } = await import('prettier');
  const readmePath = join(root, 'README.md');
  const readme = replaceBetween(readFileSync(readmePath, 'utf8'), README_BEGIN, README_END, renderReadmeTable());
  const files: [string, string][] = [
    [readmePath, await format(readme, { ...(await resolveConfig(readmePath)), filepath: readmePath })],
    [join(root, '.env.example'), renderEnvExample()],
    [
      join(root, 'compose.yaml'),
      replaceBetween(
        readFileSync(join(root, 'compose.yaml'), 'utf8'),
        COMPOSE_BEGIN,
        COMPOSE_END,
        renderComposeEnvironment(),
      ),
    ],
  ];
  let drift = 0;
  for (const [path, text] of files) {
    if (readFileSync(path, 'utf8') === text) continue;
    drift++;
    if (check) process.stderr.write(`${path.slice(root.length + 1)} is out of date: run npm run config:docs\n`);
    else writeFileSync(path, text);
    if (!check) process.stdout.write(`wrote ${path.slice(root.length + 1)}\n`);
  }
  if (check && drift) process.exit(1);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

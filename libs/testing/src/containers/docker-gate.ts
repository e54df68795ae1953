import { execFileSync } from 'node:child_process';

/**
 * Suites that need a container runtime (`*.containers.spec.ts`) run through `describeWithDocker`:
 * where no Docker engine answers they are reported as skipped and the reason is printed —
 * never silently passed. `REQUIRE_DOCKER=1` turns the skip into a failure (for machines that
 * must run them).
 */
let cached: { available: boolean; reason: string } | undefined;

export function dockerAvailability(): { available: boolean; reason: string } {
  if (cached) return cached;
  if (process.env.DOCKER_HOST === '' || process.env.RECLAIM_SKIP_DOCKER === '1') {
    cached = { available: false, reason: 'RECLAIM_SKIP_DOCKER=1' };
    return cached;
  }
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 5000 });
    cached = { available: true, reason: 'docker engine answered' };
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    const detail = e.code === 'ENOENT' ? 'no docker CLI on PATH' : (e.stderr?.toString().trim().split('\n')[0] ?? 'docker info failed');
    cached = { available: false, reason: `no Docker engine: ${detail}` };
  }
  return cached;
}

export function describeWithDocker(name: string, body: () => void): void {
  const { available, reason } = dockerAvailability();
  if (available) {
    describe(name, body);
    return;
  }
  if (process.env.REQUIRE_DOCKER === '1') {
    describe(name, () => {
      it('needs a Docker engine (REQUIRE_DOCKER=1)', () => {
        throw new Error(`REQUIRE_DOCKER=1 but ${reason}`);
      });
    });
    return;
  }
  console.warn(`[containers] SKIPPED "${name}": ${reason}. Runs where Docker exists (REQUIRE_DOCKER=1 to fail instead).`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../e2e/dist.js';

/** The bot image the docker tests run: IMAGE_TAG, else the one `npm run build:image` makes. */
export const TEST_IMAGE = process.env.IMAGE_TAG ?? 'tradedesk:local';

/** Whether a Docker daemon answers here (DOCKER_HOST or the local socket) within two seconds. */
export async function dockerAnswers(docker = new Docker()): Promise<boolean> {
  const ping = docker.ping.bind(docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>;
  return ping({ abortSignal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );
}

/**
 * Builds the bot image with scripts/build-image.mjs (which reuses it while its inputs are unchanged, so
 * after CI's own build this only checks), under a lock directory so that two test files starting
 * together do not build it twice at once. dist/ is built first, under the lock test/e2e/dist.ts holds for it.
 */
export async function ensureBotImage(): Promise<string> {
  // dist/ first, under its own lock: the image script would otherwise rebuild it under other test files' feet.
  await ensureBuilt();
  const lock = join(tmpdir(), `tradedesk-image-${createHash('sha1').update(ROOT + TEST_IMAGE).digest('hex').slice(0, 10)}.lock`);
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is building; a lock older than five minutes is left over from a crash.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-image.mjs'), '--quiet', '--tag', TEST_IMAGE], { cwd: ROOT, stdio: 'pipe' });
      return TEST_IMAGE;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error('timed out waiting for another test file to build the bot image');
}

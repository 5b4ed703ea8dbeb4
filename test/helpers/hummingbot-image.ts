import Docker from 'dockerode';
import { build } from 'esbuild';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tag of the fake Hummingbot image: a Hummingbot repository name, so the server treats it as one. */
export const FAKE_HUMMINGBOT_IMAGE = 'hummingbot/hummingbot:replay-test';

const SOURCE = fileURLToPath(new URL('../fixtures/fake-hummingbot-image/bot.ts', import.meta.url));
const HOME = '/home/hummingbot';
const DOCKERFILE = `FROM scratch
COPY rootfs/ /
WORKDIR ${HOME}
CMD ["/usr/bin/node", "${HOME}/fake-hummingbot.mjs"]
`;

/** The node binary and the shared libraries `ldd` lists for it, as [path in image, host file]. */
function nodeFiles(): Array<[string, string]> {
  const node = realpathSync(process.execPath);
  const files: Array<[string, string]> = [['/usr/bin/node', node]];
  for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) files.push([m[1]!, realpathSync(m[1]!)]);
  }
  return files;
}

/**
 * Builds the fake Hummingbot image FROM scratch, without a registry: the node binary, its shared
 * libraries and one script (test/fixtures/fake-hummingbot-image/bot.ts bundled with mqtt, yaml and the
 * recorded wire traffic). An image whose label matches the inputs' hash is reused.
 */
export async function ensureFakeHummingbotImage(docker = new Docker()): Promise<string> {
  const bundled = await build({ entryPoints: [SOURCE], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  const script = bundled.outputFiles[0]!.contents;
  const files = nodeFiles();
  const h = createHash('sha256').update(DOCKERFILE).update(script);
  for (const [to, from] of files) h.update(`${to}\0${readFileSync(from).length}\0${from}\n`);
  const hash = h.digest('hex').slice(0, 32);
  const existing = await docker.getImage(FAKE_HUMMINGBOT_IMAGE).inspect().catch(() => null);
  if (existing?.Config?.Labels?.['tradedesk.inputs'] === hash) return FAKE_HUMMINGBOT_IMAGE;

  const stage = mkdtempSync(join(tmpdir(), 'fake-hummingbot-'));
  try {
    const place = (to: string, write: (dest: string) => void) => {
      const dest = join(stage, 'rootfs', to);
      mkdirSync(dirname(dest), { recursive: true });
      write(dest);
    };
    for (const [to, from] of files) place(to, (d) => copyFileSync(from, d));
    place(`${HOME}/fake-hummingbot.mjs`, (d) => writeFileSync(d, script));
    mkdirSync(join(stage, 'rootfs', 'tmp'), { recursive: true, mode: 0o1777 });
    writeFileSync(join(stage, 'Dockerfile'), DOCKERFILE);
    const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '-C', stage, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.buildImage(tar.stdout as unknown as NodeJS.ReadableStream, { t: FAKE_HUMMINGBOT_IMAGE, labels: { 'tradedesk.inputs': hash }, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
        const failed = err ?? (events.find((e) => e.error) ? new Error(events.find((e) => e.error)!.error) : null);
        if (failed) reject(failed);
        else resolve();
      }),
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return FAKE_HUMMINGBOT_IMAGE;
}

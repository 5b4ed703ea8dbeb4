import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotControl } from '../../src/core/bots/control.js';
import { DockerHost } from '../../src/core/docker/docker-host.js';
import type { PullProgress } from '../../src/core/docker/image-pull.js';
import { imageMatches, withTag } from '../../src/core/docker/names.js';
import { logLines } from '../../src/core/docker/log-lines.js';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { dockerAnswers } from '../helpers/docker.js';
import { fakeRegistry, type FakeRegistry } from '../helpers/fake-registry.js';

/**
 * The Docker host service on the real daemon: an image pulled from a registry served here (the daemon's
 * own pull, with its per-layer progress events), a cancelled pull, and a daemon that does not answer.
 */

const docker = new Docker();
const promised = process.env.DOCKER_AVAILABLE === '1';
const up = await dockerAnswers(docker);
if (promised && !up) throw new Error('DOCKER_AVAILABLE=1 but no Docker daemon answers: run scripts/services.sh (it installs and starts dockerd)');
if (!up) console.warn('skipping the docker host tests: no Docker daemon answers');

const silent = createLogger('silent');
/** Pulls and lists touch no bot: a control that fails loudly if they did. */
const noBots = new Proxy({}, { get: (_t, k) => () => Promise.reject(new Error(`unexpected bots.${String(k)}`)) }) as BotControl;
const RUN = `dhost${randomBytes(3).toString('hex')}`;

describe('image references and the allow-list rule', () => {
  it('compares with the default tag made explicit; a trailing * is a prefix', () => {
    expect(withTag('redis')).toBe('redis:latest');
    expect(withTag('127.0.0.1:5000/a/b')).toBe('127.0.0.1:5000/a/b:latest');
    expect(withTag('a/b:1@sha256:' + 'a'.repeat(64))).toBe('a/b:1@sha256:' + 'a'.repeat(64));
    expect(imageMatches('tradedesk:local', 'tradedesk:local')).toBe(true);
    expect(imageMatches('redis', 'redis:latest')).toBe(true);
    expect(imageMatches('redis:latest', 'redis')).toBe(true);
    expect(imageMatches('redis:7', 'redis:7.2')).toBe(false);
    expect(imageMatches('hummingbot/hummingbot:*', 'hummingbot/hummingbot:2.4.0')).toBe(true);
    expect(imageMatches('hummingbot/hummingbot:*', 'hummingbot/hummingbot')).toBe(true);
    expect(imageMatches('hummingbot/hummingbot:*', 'hummingbot/hummingbotx:1')).toBe(false);
    expect(imageMatches('hummingbot/*', 'hummingbot/gateway:1')).toBe(true);
    expect(imageMatches('hummingbot/*', 'evil/hummingbot:1')).toBe(false);
  });

  it('reads framed and plain container logs', () => {
    const frame = (stream: number, text: string) => {
      const b = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(b.length, 4);
      return Buffer.concat([h, b]);
    };
    expect(logLines(Buffer.concat([frame(1, 'one\ntw'), frame(2, 'o\r\nthree\n')]))).toEqual(['one', 'two', 'three']);
    expect(logLines(Buffer.from('plain\ntext\n'))).toEqual(['plain', 'text']);
    expect(logLines(Buffer.from('tty line\n'), true)).toEqual(['tty line']);
  });
});

describe('a Docker daemon that does not answer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'td-nodaemon-'));
  const host = new DockerHost({ docker: new Docker({ socketPath: join(dir, 'no-such.sock') }), bots: noBots, logger: silent });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is running: false, and every other call is UPSTREAM_UNAVAILABLE with a hint', async () => {
    expect(await host.ping()).toEqual({ running: false, version: null });
    for (const call of [() => host.images(), () => host.containers({ state: 'running', includeUnmanaged: false }), () => host.stop('tradedesk-bot-x', false), () => host.pull('redis:7', { signal: new AbortController().signal, onProgress: () => {} })]) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      expect((err as AppError).hint).toMatch(/dockerd|DOCKER_HOST|registry/);
    }
  });
});

describe.skipIf(!up)('pulls on the real daemon', () => {
  let reg: FakeRegistry;
  const host = new DockerHost({ docker, bots: noBots, logger: silent, pullIdleTimeoutMs: 10_000 });
  beforeAll(async () => {
    reg = await fakeRegistry(`${RUN}/tiny`);
  });
  afterAll(async () => {
    await docker.getImage(reg.image).remove({ force: true }).catch(() => undefined);
    await reg?.close();
  });

  it('pulls an image from a registry, reporting each layer with its bytes', async () => {
    const seen: PullProgress[] = [];
    const result = await host.pull(reg.image, { signal: new AbortController().signal, onProgress: (p) => seen.push(p) });
    expect(result).toMatchObject({ image_name: reg.image, status: 'pulled', digest: reg.manifestDigest });
    // Layer ids are the first 12 hex digits of each layer's digest.
    expect(result.layers.map((l) => l.id).sort()).toEqual(reg.layers.map((d) => d.slice(7, 19)).sort());
    expect(result.layers.every((l) => l.status === 'Pull complete')).toBe(true);
    const big = result.layers.find((l) => (l.total ?? 0) > 1_000_000);
    expect(big?.total).toBeGreaterThan(1_000_000);
    const downloading = seen.filter((p) => p.layers.some((l) => l.status === 'Downloading' && l.total && l.current !== null && l.current < l.total));
    expect(downloading.length).toBeGreaterThan(0);
    expect(downloading.at(-1)!.message).toMatch(/Downloading \d+\.\d\/\d+\.\d MB/);
    expect(seen.map((p) => p.fraction)).toEqual([...seen.map((p) => p.fraction)].sort((a, b) => a - b));
    expect((await docker.getImage(reg.image).inspect()).RepoDigests).toContain(`${reg.host}/${reg.repository}@${reg.manifestDigest}`);
    expect((await host.images(reg.repository)).map((i) => i.tags)).toEqual([[reg.image]]);
  }, 60_000);

  it('a tag the registry does not have is UPSTREAM_REJECTED naming it', async () => {
    const err = await host.pull(`${reg.host}/${reg.repository}:nope`, { signal: new AbortController().signal, onProgress: () => {} }).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPSTREAM_REJECTED' });
    expect((err as AppError).message).toContain(':nope');
  });

  it('a cancelled pull ends at once with what was done', async () => {
    await docker.getImage(reg.image).remove({ force: true }).catch(() => undefined);
    const abort = new AbortController();
    const t0 = Date.now();
    const pulling = host.pull(reg.image, { signal: abort.signal, onProgress: (p) => p.layers.some((l) => l.status === 'Downloading') && abort.abort() });
    const result = await pulling;
    expect(result.status).toBe('canceled');
    expect(result.layers.length).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});

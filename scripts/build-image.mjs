// Builds the bot image (default tag tradedesk:local) FROM scratch, from this machine's files: the node
// binary and the shared libraries it links (ldd), the built dist/ (scripts/build.mjs), package.json,
// prompts/ and the production packages of node_modules (package-lock.json entries not marked dev).
// No registry is needed, so it works where no base image can be pulled. The user-facing Dockerfile is
// the portable alternative.
//
// Usage: node scripts/build-image.mjs [--tag name:tag] [--force]   (or IMAGE_TAG=...)
// Prints one line: the tag, the image id, its size and whether it was built or reused. An image with
// the tag whose `tradedesk.inputs` label equals the hash of the inputs is reused as is.
import Docker from 'dockerode';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { tag: { type: 'string' }, force: { type: 'boolean' }, quiet: { type: 'boolean' } } });
const tag = values.tag ?? process.env.IMAGE_TAG ?? 'tradedesk:local';
const log = (m) => values.quiet || process.stderr.write(`build-image: ${m}\n`);

/** The uid the bot runs as inside the image: no name on the host, no privileges. */
const UID = 10001;
const APP = '/app';
/** Where a bot's state directory is mounted (src/core/bots/docker-runtime.ts binds it here). */
const STATE = '/state';

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

/** Same rule as test/e2e/dist.ts: rebuild dist/ when main.js is missing or older than src/ or prompts/. */
function ensureDist() {
  const main = join(root, 'dist', 'main.js');
  const newest = (d) => (existsSync(d) ? Math.max(0, ...walk(d).map((p) => statSync(p).mtimeMs)) : 0);
  if (existsSync(main) && statSync(main).mtimeMs >= Math.max(newest(join(root, 'src')), newest(join(root, 'prompts')))) return;
  log('building dist/');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

/** The node binary and every library `ldd` lists for it, as [path in image, host file]. */
function nodeFiles() {
  const node = realpathSync(process.execPath);
  const files = [['/usr/bin/node', node]];
  const out = execFileSync('ldd', [node], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) files.push([m[1], realpathSync(m[1])]);
    else if (/not found/.test(line)) throw new Error(`ldd: ${line.trim()}`);
  }
  return files;
}

/** The installed directories of the production packages (package-lock.json entries not marked dev; optional ones absent on this platform are skipped). */
function productionPackages() {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages)
    .filter(([key, meta]) => key.startsWith('node_modules/') && !meta.dev && existsSync(join(root, key)))
    .map(([key]) => key);
}

/** What node never loads from a package: source maps, TypeScript sources and declarations, markdown (some 45 MB). */
const NOT_LOADED = /\.(map|[cm]?ts|md)$/i;

/** The files of one package, without its nested node_modules (those are entries of their own), .bin links and NOT_LOADED files. */
function packageFiles(key) {
  const dir = join(root, key);
  const out = [];
  const visit = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (d === dir && e.name === 'node_modules') continue;
        visit(p);
      } else if (NOT_LOADED.test(e.name)) continue;
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink() && statSync(p).isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/** Every file of the image as [path in image, host file]. */
function imageFiles() {
  const files = nodeFiles();
  const app = (host) => [join(APP, relative(root, host)), host];
  files.push(app(join(root, 'package.json')));
  for (const d of ['dist', 'prompts']) for (const p of walk(join(root, d))) if (!p.endsWith('.map')) files.push(app(p));
  for (const key of productionPackages()) for (const p of packageFiles(key)) files.push(app(p));
  return files;
}

const ETC = {
  '/etc/passwd': `root:x:0:0:root:/:/sbin/nologin\ntradedesk:x:${UID}:${UID}:tradedesk:${STATE}:/sbin/nologin\n`,
  '/etc/group': `root:x:0:\ntradedesk:x:${UID}:\n`,
};
const DOCKERFILE = `FROM scratch
COPY rootfs/ /
ENV NODE_ENV=production
WORKDIR ${APP}
USER ${UID}:${UID}
ENTRYPOINT ["/usr/bin/node", "${APP}/dist/main.js"]
`;

/**
 * The inputs' hash: this recipe, and each file's image path with its content for our own files (`npm
 * test` rebuilds dist/ each time, with new modification times and the same bytes) or its size and
 * modification time for node_modules and the system's files (hashing 300 MB on every check would cost
 * more than it saves; npm ci rewrites them).
 */
function inputsHash(files) {
  const h = createHash('sha256');
  h.update(DOCKERFILE).update(JSON.stringify(ETC)).update(readFileSync(new URL(import.meta.url)));
  for (const [to, from] of files) {
    if (to.startsWith(`${APP}/`) && !to.startsWith(`${APP}/node_modules/`)) {
      h.update(`${to}\0`).update(readFileSync(from)).update('\n');
    } else {
      const st = statSync(from);
      h.update(`${to}\0${st.size}\0${st.mtimeMs}\n`);
    }
  }
  return h.digest('hex').slice(0, 32);
}

/** Hard links the file into the staging tree (copies across filesystems). */
function place(stage, to, from) {
  const dest = join(stage, 'rootfs', to);
  mkdirSync(dirname(dest), { recursive: true });
  try {
    linkSync(from, dest);
  } catch {
    copyFileSync(from, dest);
  }
}

async function follow(docker, stream) {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err, events) => {
      if (err) return reject(err);
      const failed = events.find((e) => e.error);
      if (failed) return reject(new Error(failed.error));
      resolve(events);
    });
  });
}

const started = Date.now();
ensureDist();
const files = imageFiles();
const hash = inputsHash(files);
const docker = new Docker();
const existing = await docker.getImage(tag).inspect().catch((e) => (e.statusCode === 404 ? null : Promise.reject(e)));
if (existing && existing.Config?.Labels?.['tradedesk.inputs'] === hash && !values.force) {
  console.log(`${tag} ${existing.Id} ${(existing.Size / 1e6).toFixed(0)} MB reused`);
  process.exit(0);
}

const stage = mkdtempSync(join(tmpdir(), 'tradedesk-image-'));
try {
  for (const [to, from] of files) place(stage, to, from);
  for (const [to, text] of Object.entries(ETC)) {
    mkdirSync(dirname(join(stage, 'rootfs', to)), { recursive: true });
    writeFileSync(join(stage, 'rootfs', to), text);
  }
  for (const d of ['tmp', STATE.slice(1)]) {
    mkdirSync(join(stage, 'rootfs', d));
    chmodSync(join(stage, 'rootfs', d), 0o1777);
  }
  writeFileSync(join(stage, 'Dockerfile'), DOCKERFILE);
  log(`sending ${files.length} files`);
  // An uncompressed tar straight from the staging tree: gzip would cost more than it saves on a local socket.
  const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '-C', stage, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const tarDone = new Promise((resolve, reject) => tar.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`)))));
  const stream = await docker.buildImage(tar.stdout, { t: tag, labels: JSON.stringify({ 'tradedesk.inputs': hash }), rm: true, forcerm: true });
  await follow(docker, stream);
  await tarDone;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
const img = await docker.getImage(tag).inspect();
// The image the tag pointed at before is left untagged: remove it unless a container still uses it.
if (existing && existing.Id !== img.Id) await docker.getImage(existing.Id).remove().catch(() => {});
console.log(`${tag} ${img.Id} ${(img.Size / 1e6).toFixed(0)} MB built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

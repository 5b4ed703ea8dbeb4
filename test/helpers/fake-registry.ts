import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';

/**
 * A registry of one image on 127.0.0.1 speaking enough of the Docker Registry HTTP API v2 for a real
 * `docker pull` (which treats 127.0.0.0/8 as an insecure registry and falls back to plain HTTP): the
 * version check, the manifest (schema 2) and the blobs. Its image has two layers, one a few MB of
 * random bytes so that the daemon reports download progress with byte counts, sent in slices.
 */
export interface FakeRegistry {
  /** host:port, to prefix the repository with. */
  host: string;
  repository: string;
  tag: string;
  /** The full reference to pull. */
  image: string;
  manifestDigest: string;
  /** The layers' digests (sha256:…), in order. */
  layers: string[];
  close(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A tar archive of one regular file (ustar header, data padded to 512 bytes, two zero blocks). */
function tarOf(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string) => h.write(s.slice(0, len), off, 'ascii');
  put(0, 100, name);
  put(100, 8, '0000644\0');
  put(108, 8, '0000000\0');
  put(116, 8, '0000000\0');
  put(124, 12, `${data.length.toString(8).padStart(11, '0')}\0`);
  put(136, 12, `${Math.floor(Date.UTC(2026, 0, 1) / 1000).toString(8).padStart(11, '0')}\0`);
  h.fill(0x20, 148, 156);
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

export async function fakeRegistry(repository: string, tag = '1'): Promise<FakeRegistry> {
  const tars = [tarOf('hello.txt', Buffer.from('hello from the fake registry\n')), tarOf('blob.bin', randomBytes(3_000_000))];
  const blobs = new Map<string, Buffer>();
  const layers = tars.map((t) => {
    const gz = gzipSync(t);
    blobs.set(sha(gz), gz);
    return { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: gz.length, digest: sha(gz), diffId: sha(t) };
  });
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['/hello.txt'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map(() => ({ created_by: 'fake registry' })) }));
  blobs.set(sha(config), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: layers.map(({ mediaType, size, digest }) => ({ mediaType, size, digest })),
    }),
  );
  const manifestDigest = sha(manifest);

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const head = req.method === 'HEAD';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (url === '/v2/' || url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end(head ? undefined : '{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(url);
    if (!m || m[1] !== repository) return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
    if (m[2] === 'manifests') {
      if (m[3] !== tag && m[3] !== manifestDigest) return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'content-length': manifest.length, 'docker-content-digest': manifestDigest });
      return void res.end(head ? undefined : manifest);
    }
    const blob = blobs.get(decodeURIComponent(m[3]!));
    if (!blob) return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': decodeURIComponent(m[3]!) });
    if (head) return void res.end();
    // In slices with pauses: the daemon reports the bytes as they come.
    let at = 0;
    const next = () => {
      if (at >= blob.length) return void res.end();
      const slice = blob.subarray(at, at + 256 * 1024);
      at += slice.length;
      res.write(slice);
      setTimeout(next, 20);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    host,
    repository,
    tag,
    image: `${host}/${repository}:${tag}`,
    manifestDigest,
    layers: layers.map((l) => l.digest),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

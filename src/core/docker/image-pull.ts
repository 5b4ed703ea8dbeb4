import type Docker from 'dockerode';
import { AppError } from '../errors.js';
import { daemonMessage, unreachable } from './daemon-errors.js';

/** One layer of a pull as the daemon last reported it. */
export interface LayerProgress {
  id: string;
  /** The daemon's word for it: Waiting, Downloading, Extracting, Pull complete, Already exists, … */
  status: string;
  /** Bytes done and in all, while downloading or extracting; null otherwise. */
  current: number | null;
  total: number | null;
}

export interface PullProgress {
  fraction: number;
  message: string;
  layers: LayerProgress[];
}

export interface PullResult {
  image_name: string;
  status: 'pulled' | 'canceled';
  /** The manifest digest the daemon reported, when it did. */
  digest: string | null;
  layers: LayerProgress[];
}

export interface PullOptions {
  /** Cancels the pull (the daemon stops it when its request goes). */
  signal: AbortSignal;
  /** How long the daemon may go without a word (no answer, no progress) before the pull is given up. */
  idleTimeoutMs: number;
  onProgress(p: PullProgress): void;
}

interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

const DONE = new Set(['Pull complete', 'Already exists']);
const NO_REGISTRY = /no such host|dial tcp|connection refused|i\/o timeout|network is unreachable|TLS handshake timeout|server misbehaving|context deadline exceeded|Client\.Timeout|no route to host|temporary failure in name resolution|x509|certificate|tls: /i;
const NOT_THERE = /manifest unknown|not found|pull access denied|repository does not exist|unauthorized|denied/i;

const NO_REGISTRY_HINT = 'No registry is reachable from the Docker host: build the image locally (`npm run build:image` makes tradedesk:local) or load it with `docker load`, then list it with GET /docker/available-images.';

/**
 * Pulls an image through the daemon and reports each layer's progress from its event stream. Never
 * hangs: a daemon silent for `idleTimeoutMs` (no registry answering, a stalled download) ends the pull
 * as UPSTREAM_UNAVAILABLE; a registry that cannot be reached is the same, with a hint to build or load
 * the image instead. A cancel returns what was done so far.
 */
export async function pullImage(docker: Docker, image: string, opts: PullOptions): Promise<PullResult> {
  const abort = new AbortController();
  const layers = new Map<string, LayerProgress>();
  let digest: string | null = null;
  let timedOut = false;
  let shown = 0;
  let stream: NodeJS.ReadableStream | undefined;
  let idle: NodeJS.Timeout | undefined;
  const stop = () => {
    abort.abort();
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
  };
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.idleTimeoutMs);
  };
  const onCancel = () => stop();
  opts.signal.addEventListener('abort', onCancel, { once: true });
  const partial = (): PullResult => ({ image_name: image, status: 'canceled', digest, layers: [...layers.values()] });
  const silent = () =>
    new AppError('UPSTREAM_UNAVAILABLE', `Pulling ${image}: the Docker daemon reported nothing for ${Math.round(opts.idleTimeoutMs / 1000)} s (no registry answering, or a stalled download); the pull was given up.`, { hint: NO_REGISTRY_HINT });
  touch();
  try {
    try {
      stream = (await docker.pull(image, { abortSignal: abort.signal })) as NodeJS.ReadableStream;
    } catch (err) {
      if (opts.signal.aborted) return partial();
      if (timedOut) throw silent();
      throw pullError(image, err);
    }
    if (abort.signal.aborted) stop();
    touch();
    const failure = await new Promise<string | null>((resolve, reject) => {
      let failed: string | null = null;
      docker.modem.followProgress(
        stream!,
        (err: unknown) => (err && !abort.signal.aborted ? reject(err) : resolve(failed)),
        (e: PullEvent) => {
          touch();
          if (e.error || e.errorDetail?.message) failed = e.errorDetail?.message ?? e.error ?? 'pull failed';
          const d = /Digest: (sha256:[a-f0-9]{64})/.exec(e.status ?? '');
          if (d) digest = d[1]!;
          if (e.id && e.status && !e.status.startsWith('Pulling from') && e.id !== image) {
            const p = e.progressDetail;
            const prev = layers.get(e.id);
            // A status without bytes (Download complete, Pull complete) keeps the last counts seen.
            layers.set(e.id, { id: e.id, status: e.status, current: p?.current ?? prev?.current ?? null, total: p?.total ?? prev?.total ?? null });
            // Never backwards: a layer first seen late would otherwise pull the fraction down.
            const p2 = progressOf(layers);
            shown = Math.max(shown, p2.fraction);
            opts.onProgress({ ...p2, fraction: shown });
          }
        },
      );
    }).catch((err: unknown) => {
      throw pullError(image, err);
    });
    if (opts.signal.aborted) return partial();
    if (timedOut) throw silent();
    if (failure) throw pullError(image, new Error(failure));
    return { image_name: image, status: 'pulled', digest, layers: [...layers.values()] };
  } finally {
    clearTimeout(idle);
    opts.signal.removeEventListener('abort', onCancel);
  }
}

/** A fraction over the layers seen (a finished layer counts whole, a downloading one by its bytes) and a short line per layer. */
export function progressOf(layers: ReadonlyMap<string, LayerProgress>): PullProgress {
  const all = [...layers.values()];
  let sum = 0;
  for (const l of all) {
    if (DONE.has(l.status)) sum += 1;
    else if (l.status === 'Download complete' || l.status === 'Extracting' || l.status === 'Verifying Checksum') sum += 0.9;
    else if (l.status === 'Downloading' && l.total) sum += 0.9 * Math.min(1, (l.current ?? 0) / l.total);
  }
  const fraction = all.length ? Math.min(0.99, sum / all.length) : 0;
  const done = all.filter((l) => DONE.has(l.status)).length;
  const busy = all.filter((l) => !DONE.has(l.status)).map((l) => `${l.id.slice(0, 12)} ${l.status}${l.total ? ` ${mb(l.current ?? 0)}/${mb(l.total)} MB` : ''}`);
  const message = `${done}/${all.length} layers done${busy.length ? `; ${busy.join('; ')}` : ''}`;
  return { fraction, message: message.length > 500 ? `${message.slice(0, 499)}…` : message, layers: all };
}

const mb = (n: number) => (n / 1e6).toFixed(1);

function pullError(image: string, err: unknown): AppError {
  const mapped = unreachable(err);
  if (mapped instanceof AppError) return mapped;
  const msg = daemonMessage(err);
  if (NO_REGISTRY.test(msg)) {
    return new AppError('UPSTREAM_UNAVAILABLE', `Pulling ${image} failed: no registry answered (${msg.slice(0, 300)}).`, { hint: NO_REGISTRY_HINT, cause: err });
  }
  if (NOT_THERE.test(msg)) {
    return new AppError('UPSTREAM_REJECTED', `The registry refused ${image}: ${msg.slice(0, 300)}.`, { hint: 'Check the image name and tag (and that the repository is public, or log the Docker host in to it).', cause: err });
  }
  return new AppError('UPSTREAM_REJECTED', `Pulling ${image} failed: ${msg.slice(0, 300)}.`, { hint: 'The Docker daemon refused the pull; its message says why.', cause: err });
}

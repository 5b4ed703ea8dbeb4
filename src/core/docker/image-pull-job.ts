import type { JobRunner } from '../jobs/types.js';
import type { DockerHost } from './docker-host.js';
import type { PullResult } from './image-pull.js';

export const IMAGE_PULL_KIND = 'docker_image_pull';

export interface ImagePullInput {
  image_name: string;
}

/**
 * An image pull as a job: its progress line names each layer with its bytes, its result lists every
 * layer as last reported. A cancel stops the pull and keeps what was done.
 */
export function imagePullRunner(host: DockerHost): JobRunner<ImagePullInput, PullResult> {
  return async (input, ctx) => {
    ctx.progress(0, `pulling ${input.image_name}`);
    const result = await host.pull(input.image_name, { signal: ctx.signal, onProgress: (p) => ctx.progress(p.fraction, p.message) });
    if (result.status === 'pulled') ctx.progress(1, `pulled ${input.image_name}: ${result.layers.length} layers`);
    return result;
  };
}

import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { IMAGE_PULL_KIND } from '../../core/docker/image-pull-job.js';
import { JobOut } from '../jobs/schemas.js';
import { ImageRefIn } from './schemas.js';

/** A job: a pull takes minutes, and a registry that cannot be reached must not hold a request open. */
export const pullDockerImage = defineCommand({
  name: 'docker_pull_image',
  group: 'docker',
  title: 'Pull Docker image',
  description:
    'Starts pulling an image onto the Docker host as a background job and returns it at once (202); follow it with jobs_get_job (GET /jobs/{job_id}): its progress_message names each layer with its bytes, its result lists every layer. With no registry reachable the job fails as UPSTREAM_UNAVAILABLE within seconds; build the image locally or docker load it instead.',
  risk: 'admin',
  channels: ['rest'],
  idempotent: false,
  openWorld: true,
  input: z.strictObject({ image_name: ImageRefIn.describe('The image to pull, e.g. hummingbot/hummingbot:latest (no tag: latest).') }),
  output: z.object({ job: JobOut }),
  http: { method: 'POST', path: '/docker/pull-image', successStatus: 202 },
  handler: async (input, ctx) => ({ job: await ctx.services.jobs.create(IMAGE_PULL_KIND, { image_name: input.image_name }, ctx.principal) }),
});

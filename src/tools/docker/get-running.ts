import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';

export const getDockerRunning = defineCommand({
  name: 'docker_get_running',
  group: 'docker',
  title: 'Docker daemon running',
  description: 'Says whether the Docker daemon of this server answers (and its version). Never an error: a daemon that does not answer is running: false.',
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: z.strictObject({}),
  output: z.object({ running: z.boolean(), version: z.string().nullable() }),
  http: { method: 'GET', path: '/docker/running' },
  handler: async (_input, ctx) => ctx.services.docker.ping(),
});

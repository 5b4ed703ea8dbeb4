import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ContainerListIn, ContainerOut } from './schemas.js';

export const listActiveContainers = defineCommand({
  name: 'docker_list_active_containers',
  group: 'docker',
  title: 'List running containers',
  description: 'Lists the running containers this server created (bots), with the bot each runs; include_unmanaged: true lists every running container on the host.',
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: ContainerListIn,
  output: z.object({ data: z.array(ContainerOut) }),
  http: { method: 'GET', path: '/docker/active-containers' },
  handler: async (input, ctx) => ({ data: await ctx.services.docker.containers({ state: 'running', nameFilter: input.name_filter, includeUnmanaged: input.include_unmanaged ?? false }) }),
});

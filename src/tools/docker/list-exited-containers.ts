import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { LAST_LOG_LINES } from '../../core/docker/docker-host.js';
import { ContainerListIn, ContainerOut } from './schemas.js';

export const listExitedContainers = defineCommand({
  name: 'docker_list_exited_containers',
  group: 'docker',
  title: 'List ended containers',
  description: `Lists the containers this server created that are not running (exited, dead or never started), each with its exit code and its last ${LAST_LOG_LINES} log lines, which say why one failed; include_unmanaged: true lists every such container on the host.`,
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: ContainerListIn,
  output: z.object({ data: z.array(ContainerOut) }),
  http: { method: 'GET', path: '/docker/exited-containers' },
  handler: async (input, ctx) => ({ data: await ctx.services.docker.containers({ state: 'exited', nameFilter: input.name_filter, includeUnmanaged: input.include_unmanaged ?? false }) }),
});

import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ContainerNameIn, ContainerOut, IncludeUnmanagedIn } from './schemas.js';

export const stopContainer = defineCommand({
  name: 'docker_stop_container',
  group: 'docker',
  title: 'Stop container',
  description:
    "Stops a running container this server created. A bot's container is stopped as the bot (bots_stop_bot: it cancels its orders, its run is closed with the exit code). Another container is refused unless include_unmanaged is true. Stopping a stopped one changes nothing.",
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: z.strictObject({ name: ContainerNameIn, include_unmanaged: IncludeUnmanagedIn }),
  output: z.object({ container: ContainerOut }),
  http: { method: 'POST', path: '/docker/stop-container/{name}' },
  handler: async (input, ctx) => ({ container: await ctx.services.docker.stop(input.name, input.include_unmanaged ?? false) }),
});

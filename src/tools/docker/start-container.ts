import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ContainerNameIn, ContainerOut, IncludeUnmanagedIn } from './schemas.js';

export const startContainer = defineCommand({
  name: 'docker_start_container',
  group: 'docker',
  title: 'Start container',
  description:
    "Starts a stopped container this server created. A bot's container is started as the bot (bots_start_bot: a fresh container with its login, waited for until it runs). Another container is refused unless include_unmanaged is true. Starting a running one changes nothing.",
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: z.strictObject({ name: ContainerNameIn, include_unmanaged: IncludeUnmanagedIn }),
  output: z.object({ container: ContainerOut }),
  http: { method: 'POST', path: '/docker/start-container/{name}' },
  handler: async (input, ctx) => ({ container: await ctx.services.docker.start(input.name, input.include_unmanaged ?? false) }),
});

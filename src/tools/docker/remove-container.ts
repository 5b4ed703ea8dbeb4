import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ContainerNameIn, ContainerOut, IncludeUnmanagedIn } from './schemas.js';

export const removeContainer = defineCommand({
  name: 'docker_remove_container',
  group: 'docker',
  title: 'Remove container',
  description:
    "Removes a container this server created, stopping it first. A bot's container archives the bot first (as bots_archive_bot): its exit code and last output lines go into its records, its login is revoked, and its runs, logs, fills and performance stay readable under /bot-orchestration/bots/{bot_id}. Another container is refused unless include_unmanaged is true. Answers with what the container left.",
  risk: 'admin',
  channels: ['rest'],
  destructive: true,
  idempotent: false,
  openWorld: true,
  input: z.strictObject({ name: ContainerNameIn, include_unmanaged: IncludeUnmanagedIn }),
  output: z.object({ container: ContainerOut, archived_bot: z.string().nullable().describe('The bot archived with it, null for another container.') }),
  http: { method: 'POST', path: '/docker/remove-container/{name}' },
  handler: async (input, ctx) => ctx.services.docker.remove(input.name, input.include_unmanaged ?? false, ctx.principal.name),
});

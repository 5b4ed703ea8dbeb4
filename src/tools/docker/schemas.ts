import { z } from 'zod';
import { CONTAINER_NAME_RE, IMAGE_PATTERN_RE, IMAGE_REF_RE, MAX_CONTAINER_NAME, MAX_IMAGE_REF } from '../../core/docker/names.js';
import { QueryBool, Text } from '../../core/schema.js';

export const ContainerNameIn = z
  .string()
  .min(1)
  .max(MAX_CONTAINER_NAME)
  .regex(CONTAINER_NAME_RE, 'a container name: a letter or digit, then letters, digits, "_", "." or "-"')
  .describe('The container\'s name (as GET /docker/active-containers lists it).');

export const IncludeUnmanagedIn = QueryBool.optional().describe(
  'true: act on (or list) containers this server did not create too. Default false: only containers labelled tradedesk.managed=true. Docker access is root on the host; use it knowingly.',
);

export const ImageRefIn = z.string().min(1).max(MAX_IMAGE_REF).regex(IMAGE_REF_RE, 'an image reference such as hummingbot/hummingbot:latest');

export const ImagePatternIn = z
  .string()
  .min(1)
  .max(MAX_IMAGE_REF)
  .regex(IMAGE_PATTERN_RE, 'an image reference, or one ending in /*, :* or @* (e.g. hummingbot/hummingbot:*)')
  .refine((p) => p.endsWith('*') || IMAGE_REF_RE.test(p), 'an image reference such as hummingbot/hummingbot:2.4.0');

export const ContainerOut = z.object({
  id: z.string().describe('The short container id.'),
  name: z.string(),
  image: z.string(),
  state: z.string().describe('created, running, paused, restarting, exited, dead; removed after a removal.'),
  status: z.string().describe("Docker's status line."),
  created_at: z.string(),
  managed: z.boolean().describe('Created by this server (label tradedesk.managed=true).'),
  bot_id: z.string().nullable().describe('The bot it runs, null for another container.'),
  exit_code: z.number().int().nullable().describe('How it ended; null while it runs.'),
  last_logs: z.array(z.string()).optional().describe('Its last log lines, oldest first (ended containers).'),
});

export const ImageOut = z.object({
  id: z.string(),
  tags: z.array(z.string()),
  size_bytes: z.number(),
  created_at: z.string(),
});

export const AllowedImagesOut = z.object({
  default_image: z.string().describe("The server's own bot image: always allowed."),
  patterns: z.array(z.object({ pattern: z.string(), added_by: z.string(), added_at: z.string() })),
});

/** The filter both container listings take. */
export const ContainerListIn = z.strictObject({
  name_filter: Text({ min: 1, max: 128, trim: true }).optional().describe('Keep containers whose name contains this text.'),
  include_unmanaged: IncludeUnmanagedIn,
});

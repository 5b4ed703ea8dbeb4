/**
 * Which images run a real Hummingbot client rather than our own bot: `hummingbot/hummingbot:<tag>` and
 * any `<registry or owner>/hummingbot[:tag][@digest]` (the rule the original API uses to count a
 * container as a Hummingbot bot, `*\/hummingbot:*`). Such a bot is configured through files (its
 * instance folder) and answers only part of the MQTT RPCs; see hummingbot/instance.ts and the orchestrator.
 */
export function isHummingbotImage(image: string | null | undefined): boolean {
  if (!image) return false;
  const repo = image.replace(/@sha256:[a-f0-9]+$/, '').replace(/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, '');
  const parts = repo.split('/');
  return parts.length >= 2 && parts.at(-1) === 'hummingbot';
}

/** Where the instance folder's parts are mounted in a Hummingbot container (the layout the original API uses). */
export const HUMMINGBOT_HOME = '/home/hummingbot';
/** The instance folder's subdirectories mounted into the container, in mount order (conf first: the others nest in it). */
export const HUMMINGBOT_MOUNTS = ['conf', 'conf/connectors', 'conf/scripts', 'conf/controllers', 'data', 'logs'] as const;
/** The script every controllers deployment runs. */
export const V2_WITH_CONTROLLERS = 'v2_with_controllers.py';

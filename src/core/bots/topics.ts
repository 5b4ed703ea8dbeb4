import { z } from 'zod';

/**
 * Where a bot may speak on MQTT, in one place: the embedded broker's hooks and the Mosquitto
 * provisioning both derive from these rules, so the two brokers enforce the same thing.
 *
 * Hummingbot's layout: everything a bot sends or answers lives under `hbot/<instance id>/` (heartbeat
 * `hb`, `status_updates`, `log`, `events`, `performance`, RPC requests `hbot/<id>/<cmd>`, and the reply
 * topics the server names in each request, e.g. `hbot/<id>/reply/<uuid>`). A bot connects with client id
 * `hbot.<id>`.
 */
export const BOT_NAMESPACE = 'hbot';

/**
 * The QoS of each report a bot sends, as bots publish them and as the server subscribes (the broker
 * delivers at the lower of the two). Heartbeats and performance reports are snapshots sent every
 * second, each superseding the one before: QoS 0, as a Hummingbot bot publishes them, with no
 * acknowledgement to write for each (four thousand a second, both ways, with a thousand bots). The
 * server's session is clean (a new client id each start), so QoS 1 would only have covered a snapshot
 * in flight on a connection that breaks, and the next one follows a second later. Status changes, log
 * lines and events (fills among them) are said once: QoS 1.
 */
export const REPORT_QOS = { hb: 0, performance: 0, status_updates: 1, log: 1, events: 1 } as const satisfies Record<string, 0 | 1>;

/** Lowercase letters, digits, `-` and `_`, 1 to 63 characters: safe as a topic level, a username and a container name. */
export const BOT_ID_PATTERN = /^[a-z0-9_-]{1,63}$/;

export const botIdSchema = z
  .string()
  .regex(BOT_ID_PATTERN, 'a bot id is 1-63 lowercase letters, digits, "-" or "_"')
  .describe('Bot id: 1-63 lowercase letters, digits, "-" or "_"');

export function isBotId(id: string): boolean {
  return BOT_ID_PATTERN.test(id);
}

/** The topic prefix a bot owns, with its trailing slash. */
export function botPrefix(id: string): string {
  return `${BOT_NAMESPACE}/${id}/`;
}

/** The one topic filter that covers everything a bot owns (what the Mosquitto role grants). */
export function botTopicFilter(id: string): string {
  return `${botPrefix(id)}#`;
}

/** The MQTT client id Hummingbot connects with. */
export function botClientId(id: string): string {
  return `${BOT_NAMESPACE}.${id}`;
}

const USERNAME_PREFIX = 'bot-';

/** The broker username of a bot. */
export function botUsername(id: string): string {
  return `${USERNAME_PREFIX}${id}`;
}

/** The bot a username belongs to, or null when it is not a bot's username. */
export function botIdOfUsername(username: string): string | null {
  if (!username.startsWith(USERNAME_PREFIX)) return null;
  const id = username.slice(USERNAME_PREFIX.length);
  return isBotId(id) ? id : null;
}

/**
 * Whether bot `id` may publish to `topic`: only a concrete topic strictly under its prefix (wildcards
 * are never valid in a published topic name, and `hbot/<id>` alone names nothing a bot sends).
 */
export function botMayPublish(id: string, topic: string): boolean {
  const prefix = botPrefix(id);
  return topic.length > prefix.length && topic.startsWith(prefix) && !/[+#\u0000]/.test(topic);
}

/**
 * Whether bot `id` may subscribe to `filter`. The filter must begin with the bot's own literal prefix;
 * wildcards after it can then only match topics under that prefix (`hbot/<id>/#`, `hbot/<id>/+/x`),
 * while `#`, `hbot/#`, `hbot/+/hb` and shared subscriptions (`$share/...`) start elsewhere and are
 * refused. A wildcard must fill a whole level, as MQTT requires.
 */
export function botMaySubscribe(id: string, filter: string): boolean {
  const prefix = botPrefix(id);
  if (!filter.startsWith(prefix) || filter.length === prefix.length || filter.includes('\u0000')) return false;
  const levels = filter.slice(prefix.length).split('/');
  return levels.every((level, i) => (level === '#' ? i === levels.length - 1 : level === '+' || !/[+#]/.test(level)));
}

import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../secrets/redact.js';
import type { BotLogin, BrokerAccess } from './credentials.js';
import { BOT_NAMESPACE, botClientId, botTopicFilter } from './topics.js';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
/** The role that lets the server's own user (MQTT_URL's) publish commands to every bot. */
export const SERVER_ROLE = 'tradedesk-server';

const botRole = (botId: string) => `bot-${botId}`;

interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}
interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

const ENABLE_HINT =
  'Load the dynamic-security plugin in mosquitto.conf (plugin <path>/mosquitto_dynamic_security.so and plugin_opt_config_file <file>, ' +
  'the file made by `mosquitto_ctrl dynsec init <file> <admin user>`) and put that admin user in MQTT_URL (mqtt://user:password@host:port); ' +
  `or provision each bot by hand: a client bot-<id> with client id hbot.<id>, allowed to publish and subscribe to ${BOT_NAMESPACE}/<id>/# only.`;

export interface MosquittoDynsecOptions {
  /** MQTT_URL, with the dynsec admin's username and password in its userinfo. */
  url: string;
  logger: Logger;
  /** How long to wait for the plugin's answer to one batch of commands. */
  timeoutMs?: number;
}

/**
 * Provisions bots on an external Mosquitto 2 through its dynamic-security plugin: each bot gets a client
 * (its username, password and client id `hbot.<id>`) holding a role of its own whose ACLs allow
 * publishing and subscribing to `hbot/<id>/#` only; revoking deletes both. The plugin's defaults deny
 * everything else a client sends or subscribes to. At start it checks that the plugin answers and gives
 * the admin user (the server's own identity) the right to publish to every bot.
 */
export class MosquittoDynsec implements Lifecycle, BrokerAccess {
  readonly #pending = new Map<string, (r: DynsecResponse) => void>();
  readonly #timeoutMs: number;
  readonly #admin: { username: string; password: string; where: string };
  #client: MqttClient | undefined;

  constructor(private readonly opts: MosquittoDynsecOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    const u = new URL(opts.url);
    this.#admin = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password), where: `${u.protocol}//${u.host}` };
    if (this.#admin.password) registerSecret(this.#admin.password);
  }

  async start(): Promise<void> {
    const { username, password, where } = this.#admin;
    if (!username || !password) {
      throw new AppError('PRECONDITION_FAILED', `MQTT_URL (${where}) names no user: the server needs the dynamic-security admin's login to provision bots.`, { hint: ENABLE_HINT });
    }
    const url = new URL(this.opts.url);
    url.username = '';
    url.password = '';
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(url.toString(), {
        username,
        password,
        clientId: `tradedesk-dynsec-${randomUUID().slice(0, 8)}`,
        connectTimeout: this.#timeoutMs,
        reconnectPeriod: 500,
        protocolVersion: 4,
        // No retries for the first connection: a broker that never answers fails the start instead of hanging it.
      }, false);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5) {
        throw new AppError('PRECONDITION_FAILED', `The MQTT broker at ${where} refused the login of ${username}.`, { hint: `Check the user and password in MQTT_URL. ${ENABLE_HINT}`, cause: err });
      }
      throw new AppError('UPSTREAM_UNAVAILABLE', `The MQTT broker at ${where} could not be reached.`, { hint: 'Start the broker or fix MQTT_URL; without MQTT_URL the server embeds its own broker.', cause: err });
    }
    this.#client = client;
    client.on('message', (topic, payload) => {
      if (topic === RESPONSE_TOPIC) this.#answer(payload);
    });
    client.on('error', (err) => this.opts.logger.warn('mqtt dynsec connection error', { err }));
    try {
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      await this.#run([{ command: 'getDefaultACLAccess' }]);
      await this.#ensureServerRole();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync(true);
  }

  async grant(botId: string, login: BotLogin): Promise<void> {
    const topic = botTopicFilter(botId);
    const [role] = await this.#run([
      {
        command: 'createRole',
        rolename: botRole(botId),
        acls: [
          { acltype: 'publishClientSend', topic, allow: true },
          { acltype: 'publishClientReceive', topic, allow: true },
          { acltype: 'subscribePattern', topic, allow: true },
          { acltype: 'unsubscribePattern', topic, allow: true },
        ],
      },
    ]);
    if (role!.error && role!.error !== 'Role already exists') throw this.#refused('createRole', role!.error);
    const [created] = await this.#run([{ command: 'createClient', username: login.username, password: login.password, clientid: botClientId(botId), roles: [{ rolename: botRole(botId) }] }]);
    if (!created!.error) return;
    if (created!.error !== 'Client already exists') throw this.#refused('createClient', created!.error);
    // Known to the broker already (a redeploy): make sure it holds the password we hand out.
    const [set] = await this.#run([{ command: 'setClientPassword', username: login.username, password: login.password }]);
    if (set!.error) throw this.#refused('setClientPassword', set!.error);
  }

  /** Deleting the client also disconnects it, if it is connected. */
  async revoke(botId: string, username: string): Promise<void> {
    const [client, role] = await this.#run([
      { command: 'deleteClient', username },
      { command: 'deleteRole', rolename: botRole(botId) },
    ]);
    if (client!.error && client!.error !== 'Client not found') throw this.#refused('deleteClient', client!.error);
    if (role!.error && role!.error !== 'Role not found') throw this.#refused('deleteRole', role!.error);
  }

  /**
   * The dynsec admin may read every topic but publish to none of the bots'. Mosquitto disconnects a
   * client whose roles change, this one included, so the answer to addClientRole may never arrive: the
   * client reconnects by itself and the role is then read back.
   */
  async #ensureServerRole(): Promise<void> {
    const hasRole = async () => {
      const [r] = await this.#run([{ command: 'getClient', username: this.#admin.username }]);
      if (r!.error) throw this.#refused('getClient', r!.error);
      const roles = ((r!.data?.client as { roles?: Array<{ rolename: string }> } | undefined)?.roles ?? []).map((x) => x.rolename);
      return roles.includes(SERVER_ROLE);
    };
    if (await hasRole()) return;
    const filter = `${BOT_NAMESPACE}/#`;
    const [role] = await this.#run([
      {
        command: 'createRole',
        rolename: SERVER_ROLE,
        acls: [
          { acltype: 'publishClientSend', topic: filter, allow: true },
          { acltype: 'publishClientReceive', topic: filter, allow: true },
          { acltype: 'subscribePattern', topic: filter, allow: true },
        ],
      },
    ]);
    if (role!.error && role!.error !== 'Role already exists') throw this.#refused('createRole', role!.error);
    const reconnected = new Promise<void>((resolve) => this.#client!.once('connect', () => resolve()));
    const answered = this.#run([{ command: 'addClientRole', username: this.#admin.username, rolename: SERVER_ROLE }]).then(
      ([r]) => {
        if (r!.error) throw this.#refused('addClientRole', r!.error);
      },
      (err: unknown) => {
        if (!(err instanceof AppError && err.code === 'TIMEOUT')) throw err;
      },
    );
    await Promise.race([answered, reconnected]);
    if (!(await hasRole())) throw this.#refused('addClientRole', `${this.#admin.username} did not get the role ${SERVER_ROLE}`);
  }

  /** Sends one batch of commands and waits for the answer to each (matched by correlation data). */
  async #run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = this.#client;
    if (!client) throw new AppError('UPSTREAM_UNAVAILABLE', 'The MQTT provisioning is not started.');
    const tagged = commands.map((c) => ({ ...c, correlationData: randomUUID() }));
    const answers = tagged.map((c) => new Promise<DynsecResponse>((resolve) => this.#pending.set(c.correlationData, resolve)));
    let timer: NodeJS.Timeout | undefined;
    try {
      await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
      return await Promise.race([
        Promise.all(answers),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new AppError('TIMEOUT', `The MQTT broker at ${this.#admin.where} did not answer on ${RESPONSE_TOPIC} within ${this.#timeoutMs} ms: its dynamic-security plugin is not loaded, or ${this.#admin.username} is not its admin.`, {
                  hint: ENABLE_HINT,
                  details: { commands: commands.map((c) => c.command) },
                }),
              ),
            this.#timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      for (const c of tagged) this.#pending.delete(c.correlationData);
    }
  }

  #answer(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
    } catch {
      return;
    }
    for (const r of responses) if (r.correlationData) this.#pending.get(r.correlationData)?.(r);
  }

  #refused(command: string, error: string): AppError {
    return new AppError('UPSTREAM_REJECTED', `The MQTT broker at ${this.#admin.where} refused ${command}: ${error}.`, { hint: ENABLE_HINT });
  }
}

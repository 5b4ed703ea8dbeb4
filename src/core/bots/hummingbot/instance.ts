import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { BotStrategy } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { registerSecret } from '../../secrets/redact.js';
import { controllerIds } from '../strategy-check.js';
import { BOT_NAMESPACE } from '../topics.js';
import { decryptSecretValue, PASSWORD_VERIFICATION_WORD, passwordVerification } from './keystore.js';
import { V2_WITH_CONTROLLERS } from './image.js';

/**
 * A Hummingbot bot's instance folder, written as the original API writes it (hummingbot-api.md §9) into
 * the bot's state directory:
 *
 *   conf/conf_client.yml            instance_id = the bot id, mqtt_bridge = our broker with the bot's own login
 *   conf/.password_verification     "HummingBot" encrypted with the config password (headless start checks it)
 *   conf/connectors/                empty: the bot's exchange keys are the operator's business, not ours
 *   conf/scripts/<bot>.yml          v2_with_controllers with the list of controller files
 *   conf/controllers/<id>.yml       one per controller: id, controller_name, controller_type and its fields
 *   data/, logs/                    the bot's own
 *   .config-password                the config password (0600), outside every mount: the same one is
 *                                   given again at each launch, so what the bot encrypted with it stays readable
 *
 * Files holding the broker password are 0600 (the container runs as the server's user).
 */

export const CONFIG_PASSWORD_FILE = '.config-password';

export interface HummingbotInstance {
  botId: string;
  /** The broker as the bot reaches it (host network): mqtt://host:port or mqtts://. */
  brokerUrl: string;
  login: { username: string; password: string };
  strategy: BotStrategy;
  /** A controller's type (directional_trading, market_making, generic); null when unknown. */
  controllerType(name: string): string | null;
  maxGlobalDrawdownQuote?: number | null;
  maxControllerDrawdownQuote?: number | null;
}

/** The script config's file name (SCRIPT_CONFIG). */
export const scriptConfigName = (botId: string) => `${botId}.yml`;

function brokerOf(url: string): { host: string; port: number; ssl: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new AppError('PRECONDITION_FAILED', `The broker URL ${url} cannot be given to a Hummingbot bot`, { hint: 'Set MQTT_URL to mqtt://host:port.', cause });
  }
  const ssl = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  if (!ssl && u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new AppError('PRECONDITION_FAILED', `A Hummingbot bot speaks MQTT over TCP, not ${u.protocol}//`, { hint: 'Set MQTT_URL to mqtt://host:port (or mqtts://).' });
  return { host: u.hostname, port: u.port ? Number(u.port) : ssl ? 8883 : 1883, ssl };
}

export function confClient(i: Pick<HummingbotInstance, 'botId' | 'brokerUrl' | 'login'>): Record<string, unknown> {
  const b = brokerOf(i.brokerUrl);
  return {
    instance_id: i.botId,
    mqtt_bridge: {
      mqtt_host: b.host,
      mqtt_port: b.port,
      mqtt_username: i.login.username,
      mqtt_password: i.login.password,
      mqtt_namespace: BOT_NAMESPACE,
      mqtt_ssl: b.ssl,
      mqtt_logger: true,
      mqtt_notifier: true,
      mqtt_commands: true,
      mqtt_events: true,
      mqtt_external_events: true,
      mqtt_autostart: true,
    },
  };
}

/** The controllers of a strategy as Hummingbot controller configs, keyed by their file name. */
export function controllerFiles(i: Pick<HummingbotInstance, 'strategy' | 'controllerType'>): Array<{ file: string; config: Record<string, unknown> }> {
  if (!('controllers' in i.strategy)) {
    throw new AppError('VALIDATION_FAILED', 'A Hummingbot bot runs controllers (v2_with_controllers), not one of our scripts.', {
      hint: 'Deploy it with controllers, or leave image out to run the script on our own bot.',
      details: { issues: [{ path: 'script', message: 'a Hummingbot image runs controllers only' }] },
    });
  }
  const cs = i.strategy.controllers;
  const ids = controllerIds(cs.map((c) => c.controller_name));
  return cs.map((c, n) => {
    const type = i.controllerType(c.controller_name);
    // id, controller_name and controller_type first, as Hummingbot writes them; the fields after.
    const { id: _id, controller_name: _n, controller_type: _t, ...fields } = c.config;
    return { file: `${ids[n]}.yml`, config: { id: ids[n], controller_name: c.controller_name, ...(type ? { controller_type: type } : {}), ...fields } };
  });
}

export function scriptConfig(i: Pick<HummingbotInstance, 'strategy' | 'controllerType' | 'maxGlobalDrawdownQuote' | 'maxControllerDrawdownQuote'>): Record<string, unknown> {
  return {
    script_file_name: V2_WITH_CONTROLLERS,
    controllers_config: controllerFiles(i).map((f) => f.file),
    ...(i.maxGlobalDrawdownQuote != null ? { max_global_drawdown_quote: i.maxGlobalDrawdownQuote } : {}),
    ...(i.maxControllerDrawdownQuote != null ? { max_controller_drawdown_quote: i.maxControllerDrawdownQuote } : {}),
  };
}

/** Writes a file whole or not at all (a bot hot-reloading a controller file must never read half of it). */
function writeAtomic(path: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * Makes `path` a real directory of ours. The container can write where its folders are mounted and may
 * have left a symlink (or a file) in place of one: that is removed, never followed, so no write or
 * removal of ours lands outside the bot's state directory.
 */
function ownDir(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) return;
  if (st) rmSync(path, { force: true });
  mkdirSync(path, { mode: 0o700 });
}

/** The instance folder's directories, parents first, each a real directory (see ownDir). */
function ownDirs(dir: string): void {
  for (const d of ['conf', 'conf/connectors', 'conf/scripts', 'conf/controllers', 'data', 'logs']) ownDir(join(dir, d));
}

const yaml = (v: unknown) => stringify(v, { lineWidth: 0 });

/** The bot's config password: the stored one, or a new random one stored for the next launches. Registered as a secret. */
export function configPassword(dir: string): string {
  const file = join(dir, CONFIG_PASSWORD_FILE);
  let pw = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!pw) {
    pw = randomBytes(24).toString('base64url');
    writeAtomic(file, pw);
  }
  registerSecret(pw);
  return pw;
}

async function opensWith(file: string, password: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  return decryptSecretValue(readFileSync(file, 'utf8'), password).then(
    (word) => word === PASSWORD_VERIFICATION_WORD,
    () => false,
  );
}

/**
 * Writes the whole instance folder and returns what the container is started with. The password
 * verification file is written when it is missing or does not open with the config password.
 */
export async function writeInstance(dir: string, i: HummingbotInstance, opts: { pbkdf2Rounds?: number } = {}): Promise<{ configPassword: string; scriptConfig: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ownDirs(dir);
  const password = configPassword(dir);
  const verification = join(dir, 'conf', '.password_verification');
  // Written again when it does not open with the config password (a lost .config-password): the bot would refuse to start.
  if (!(await opensWith(verification, password))) writeAtomic(verification, await passwordVerification(password, opts.pbkdf2Rounds ? { rounds: opts.pbkdf2Rounds } : {}));
  writeAtomic(join(dir, 'conf', 'conf_client.yml'), yaml(confClient(i)));
  writeControllers(dir, i);
  const script = scriptConfigName(i.botId);
  writeAtomic(join(dir, 'conf', 'scripts', script), yaml(scriptConfig(i)));
  return { configPassword: password, scriptConfig: script };
}

/**
 * Writes the controller files (v2_with_controllers reloads them while it runs) and removes those of
 * controllers the strategy no longer has. Returns the files written.
 */
export function writeControllers(dir: string, i: Pick<HummingbotInstance, 'strategy' | 'controllerType'>): string[] {
  const files = controllerFiles(i);
  const at = join(dir, 'conf', 'controllers');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ownDir(join(dir, 'conf'));
  ownDir(at);
  for (const f of files) writeAtomic(join(at, f.file), yaml(f.config));
  const keep = new Set(files.map((f) => f.file));
  for (const name of readdirSync(at)) if (name.endsWith('.yml') && !keep.has(name)) rmSync(join(at, name), { force: true });
  return files.map((f) => `conf/controllers/${f.file}`);
}

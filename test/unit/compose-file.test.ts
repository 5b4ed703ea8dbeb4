import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARS } from '../../src/core/config.js';

/**
 * The docker-compose.yml users deploy with, read as data: no anonymous broker access, every variable
 * given to the server a real setting, the Docker socket in the server alone, ports on loopback only.
 */
const ROOT = join(import.meta.dirname, '..', '..');
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  group_add?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; secrets: Record<string, { file: string }>; volumes: Record<string, { name?: string } | null> };
const { services } = compose;
const server = services.tradedesk!;
const emqx = services.emqx!;

describe('docker-compose.yml', () => {
  it('runs the server built from the Dockerfile, Postgres 16 and EMQX 5, each with a healthcheck the server waits for', () => {
    expect(Object.keys(services).sort()).toEqual(['emqx', 'postgres', 'tradedesk']);
    expect(server.build).toBe('.');
    expect(server.command).toEqual(['serve']);
    expect(services.postgres!.image).toBe('postgres:16');
    expect(emqx.image).toMatch(/^emqx\/emqx:5\./);
    for (const s of ['postgres', 'emqx']) {
      expect(services[s]!.healthcheck?.test.length, s).toBeGreaterThan(0);
      expect(server.depends_on?.[s]).toEqual({ condition: 'service_healthy' });
    }
  });

  it('gives the server only real settings, and the ones it needs in a container', () => {
    const env = server.environment!;
    const unknown = Object.keys(env).filter((k) => !(k in CONFIG_VARS));
    expect(unknown).toEqual([]);
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/tradedesk:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/tradedesk$/);
    expect(env.API_PASSWORD).toMatch(/^\$\{API_PASSWORD:\?/);
    expect(env).toMatchObject({ HOST: '0.0.0.0', DATA_DIR: '/data', MQTT_BROKER: 'emqx', EMQX_API_URL: 'http://emqx:18083', BOT_MQTT_URL: 'mqtt://127.0.0.1:1883', BOT_IMAGE: server.image });
    expect(env.MQTT_URL).toMatch(/^mqtt:\/\/tradedesk:\$\{MQTT_SERVER_PASSWORD:\?[^}]+\}@emqx:1883$/);
    // The bots' state is the data volume's bots/ folder, as the host's daemon finds it.
    expect(server.volumes).toContain('tradedesk-data:/data');
    expect(compose.volumes['tradedesk-data']).toEqual({ name: 'tradedesk-data' });
    expect(env.BOT_STATE_HOST_DIR).toBe('${DOCKER_DATA_ROOT:-/var/lib/docker}/volumes/tradedesk-data/_data/bots');
    // The API key file the server reads is the one EMQX bootstraps its keys from.
    expect(env.EMQX_API_KEY_FILE).toBe('/run/secrets/emqx_api_key');
    expect(emqx.environment!.EMQX_API_KEY__BOOTSTRAP_FILE).toBe('/run/secrets/emqx_api_key');
    expect(server.secrets).toEqual(['emqx_api_key']);
    expect(emqx.secrets).toEqual(['emqx_api_key']);
  });

  it('lets no client on EMQX without a login, and refuses whatever no rule allows', () => {
    const env = emqx.environment!;
    const authn = env.EMQX_AUTHENTICATION!;
    expect(authn).toMatch(/mechanism = password_based/);
    expect(authn).toMatch(/backend = built_in_database/);
    expect(authn).toMatch(/enable = true/);
    expect(Object.keys(env).filter((k) => /ALLOW_ANONYMOUS|AUTHENTICATION__.*ENABLE/.test(k) && /false/i.test(env[k]!))).toEqual([]);
    expect(env.EMQX_AUTHORIZATION__NO_MATCH).toBe('deny');
    // The built-in database alone: the default ACL file ends with "allow all".
    expect(env.EMQX_AUTHORIZATION__SOURCES).toBe('[{type = built_in_database, enable = true}]');
    expect(env.EMQX_DASHBOARD__DEFAULT_PASSWORD).toMatch(/^\$\{EMQX_DASHBOARD_PASSWORD:\?/);
  });

  it('mounts the Docker socket into the server and nothing else, and the server gets the socket\'s group', () => {
    const withSocket = Object.entries(services).filter(([, s]) => (s.volumes ?? []).some((v) => v.includes('docker.sock'))).map(([n]) => n);
    expect(withSocket).toEqual(['tradedesk']);
    expect(server.group_add).toEqual(['${DOCKER_GID:?set DOCKER_GID in .env: stat -c %g /var/run/docker.sock}']);
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const ports = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p, p).toMatch(/^127\.0\.0\.1:/);
    expect(services.postgres!.ports).toBeUndefined();
  });

  it('has an .env.example naming every variable the file requires', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const required = [...new Set([...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!))];
    expect(required.sort()).toEqual(['API_PASSWORD', 'DOCKER_GID', 'EMQX_DASHBOARD_PASSWORD', 'MQTT_SERVER_PASSWORD', 'POSTGRES_PASSWORD']);
    for (const v of required) expect(example, v).toMatch(new RegExp(`^${v}=`, 'm'));
    expect(compose.secrets.emqx_api_key!.file).toBe('./emqx-api-key');
  });
});

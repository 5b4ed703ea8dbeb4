import { expect } from 'vitest';
import { rmSync } from 'node:fs';
import { privateDatabase, testConfig } from './config.js';
import { tempDataDir } from './data-dir.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import type { Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { createServices, type ServiceOptions, type Services } from '../../src/app/services.js';

/**
 * 'postgres': a database of the test's own on the run's Postgres (DATABASE_URL, or the embedded Postgres
 * the global setup starts without it). 'pglite': the earlier embedded driver (EMBEDDED_DATABASE=pglite),
 * for the few tests that keep it working.
 */
export type Driver = 'pglite' | 'postgres';

/**
 * The drivers to run database tests on. Embedded and server mode run the same Postgres driver now, so
 * one is enough; PGlite is covered by its own tests, not a second matrix.
 */
export function drivers(): Driver[] {
  return ['postgres'];
}

export const ADMIN = { username: 'admin', password: 'test-admin-password' };
export const basicHeader = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
export const ADMIN_AUTH = basicHeader(ADMIN.username, ADMIN.password);

export interface TestEnv {
  config: Config;
  dataDir: string;
  /** Removes the data dir and drops the test database. */
  cleanup(): Promise<void>;
}

/**
 * A private data dir and a private Postgres database created for this test (or, for 'pglite', an
 * embedded PGlite in the data dir), so tests never see each other's rows.
 */
export async function testEnv(driver: Driver, overrides: Partial<Config> = {}): Promise<TestEnv> {
  const dataDir = tempDataDir();
  let databaseUrl: string | undefined;
  let dropDb = async () => {};
  if (driver === 'pglite') {
    overrides = { embeddedDatabase: 'pglite', ...overrides };
  } else {
    const db = await privateDatabase(process.env.DATABASE_URL!);
    databaseUrl = db.url;
    dropDb = db.drop;
  }
  const config = testConfig({ dataDir, databaseUrl, admin: ADMIN }, overrides);
  return {
    config,
    dataDir,
    cleanup: async () => {
      await dropDb().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function testServices(driver: Driver, overrides: Partial<Config> = {}, options: ServiceOptions = {}): Promise<{ services: Services; env: TestEnv; close(): Promise<void> }> {
  const env = await testEnv(driver, overrides);
  const { services } = await createServices(env.config, createLogger('silent'), options);
  return { services, env, close: async () => { await services.close(); await env.cleanup(); } };
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
  text: string;
  headers: Headers;
}

/** The body of an answer that must have `status`; a failure shows the answer's text. */
export function okBody(r: HttpAnswer, status = 200): any {
  expect(r.status, r.text).toBe(status);
  return r.body;
}

/** One request with optional Basic auth and a JSON (or raw string) body; the answer parsed when it is JSON. */
export async function httpJson(baseUrl: string, method: string, path: string, body?: unknown, auth: string | null = ADMIN_AUTH): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

export interface TestServer extends RunningServer {
  env: TestEnv;
  /** fetch against the server with admin credentials unless `auth` is given (null: none). */
  call(method: string, path: string, body?: unknown, auth?: string | null): Promise<HttpAnswer>;
  stop(): Promise<void>;
}

export async function testServer(driver: Driver, overrides: Partial<Config> = {}, options: ServiceOptions = {}): Promise<TestServer> {
  const env = await testEnv(driver, overrides);
  const server = await startServer(env.config, createLogger('silent'), options);
  const call: TestServer['call'] = (method, path, body, auth = ADMIN_AUTH) => httpJson(server.url, method, path, body, auth);
  return { ...server, env, call, stop: async () => { await server.close(); await env.cleanup(); } };
}

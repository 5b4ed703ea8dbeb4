import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { createLogger } from '../../src/core/logger.js';
import { ADMIN_AUTH, drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { parseRawResponse, rawExchange } from '../helpers/raw-http.js';

/** Short limits so that the test sees them expire; the defaults are 10 s / 30 s / 5 s. */
const TIMEOUTS = { headersMs: 400, requestMs: 800, keepAliveMs: 300, checkIntervalMs: 100 };
/** The test fails if the server has not closed the connection by then: well under Node's 300 s default. */
const DEADLINE_MS = 5_000;

describe.each(drivers())('HTTP layer limits on %s', (driver) => {
  let env: TestEnv;
  let server: RunningServer;
  beforeAll(async () => {
    env = await testEnv(driver);
    server = await startServer(env.config, createLogger('silent'), { timeouts: TIMEOUTS });
  });
  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it('a body shorter than its Content-Length: JSON 408 and the connection closed within the request timeout', async () => {
    const body = '{"account_name":"x"';
    const request =
      `POST /accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN_AUTH}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length + 1000}\r\n\r\n${body}`;
    const { text } = await rawExchange(server.url, request, DEADLINE_MS);
    const r = parseRawResponse(text);
    expect(r.status).toBe(408);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.error.code).toBe('TIMEOUT');
    expect(r.body.error.hint).toMatch(/Content-Length/);
    // Nothing was created by the half-sent request.
    expect((await fetch(`${server.url}/accounts/x/balances`, { headers: { authorization: ADMIN_AUTH } })).status).toBe(404);
  });

  it('headers that never end: JSON 408 and closed', async () => {
    const { text } = await rawExchange(server.url, 'GET /accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n', DEADLINE_MS);
    const r = parseRawResponse(text);
    expect(r.status).toBe(408);
    expect(r.body.error.code).toBe('TIMEOUT');
  });

  it('an idle keep-alive connection is closed', async () => {
    const { text } = await rawExchange(server.url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', DEADLINE_MS);
    expect(parseRawResponse(text).status).toBe(200);
  });

  it('headers too large: JSON 431', async () => {
    const { text } = await rawExchange(server.url, `GET /accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, DEADLINE_MS);
    const r = parseRawResponse(text);
    expect(r.status).toBe(431);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.body.error.message).toMatch(/headers/);
  });

  it('a malformed request: JSON 400', async () => {
    for (const bad of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n']) {
      const { text } = await rawExchange(server.url, bad, DEADLINE_MS);
      const r = parseRawResponse(text);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('the server still answers after all of that', async () => {
    expect((await fetch(`${server.url}/accounts`, { headers: { authorization: ADMIN_AUTH } })).status).toBe(200);
  });
});

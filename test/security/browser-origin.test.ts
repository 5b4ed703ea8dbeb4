import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { rawRequest } from '../helpers/raw-http.js';

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

const mcpPost = (s: TestServer, origin?: string) =>
  rawRequest(s.url, {
    method: 'POST',
    path: '/mcp',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(origin === undefined ? {} : { origin }) },
    body: INIT,
  });

/** The status the market-stream upgrade is answered with (101 when accepted), and the body of a refusal. */
function streamUpgrade(s: TestServer, origin?: string): Promise<{ status: number; body?: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/market-data/stream`, { headers: { authorization: ADMIN_AUTH }, ...(origin === undefined ? {} : { origin }) });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        ws.terminate();
      });
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe.each(drivers())('/mcp Origin check on %s', (driver) => {
  describe('with no MCP_ALLOWED_ORIGINS', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await testServer(driver);
    });
    afterAll(async () => s?.stop());

    it('refuses Origin null (sandboxed iframes, file:// pages) with 403 and a hint naming the setting', async () => {
      const r = await mcpPost(s, 'null');
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('POLICY_DENIED');
      expect(r.body.error.hint).toMatch(/MCP_ALLOWED_ORIGINS/);
    });

    it('refuses pages on other local ports and other loopback spellings of another port', async () => {
      const port = Number(new URL(s.url).port);
      for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', `http://localhost:${port + 1}`, 'http://[::1]:8080', 'http://localhost', `https://localhost:${port + 1}`]) {
        const r = await mcpPost(s, origin);
        expect(r.status, origin).toBe(403);
        expect(r.body.error.code).toBe('POLICY_DENIED');
      }
    });

    it("accepts the server's own origin (a page it served) and requests without Origin (not a browser)", async () => {
      const port = new URL(s.url).port;
      expect((await mcpPost(s, `http://127.0.0.1:${port}`)).status).toBe(200);
      expect((await mcpPost(s)).status).toBe(200);
    });

    it('the market-data stream upgrade follows the same rule', async () => {
      for (const origin of ['null', 'http://localhost:5173', 'https://evil.example']) {
        const r = await streamUpgrade(s, origin);
        expect(r.status, origin).toBe(403);
        expect(r.body.error.code).toBe('POLICY_DENIED');
        expect(r.body.error.hint).toMatch(/MCP_ALLOWED_ORIGINS/);
      }
      expect((await streamUpgrade(s, s.url)).status).toBe(101);
      expect((await streamUpgrade(s)).status).toBe(101);
    });
  });

  describe('with MCP_ALLOWED_ORIGINS set', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await testServer(driver, { mcpAllowedOrigins: loadConfig({ MCP_ALLOWED_ORIGINS: 'http://localhost:5173, null' }).mcpAllowedOrigins });
    });
    afterAll(async () => s?.stop());

    it('accepts exactly the configured origins', async () => {
      expect((await mcpPost(s, 'http://localhost:5173')).status).toBe(200);
      expect((await mcpPost(s, 'null')).status).toBe(200);
      expect((await mcpPost(s, 'http://localhost:5174')).status).toBe(403);
      expect((await mcpPost(s, 'https://localhost:5173')).status).toBe(403);
      expect((await streamUpgrade(s, 'http://localhost:5173')).status).toBe(101);
      expect((await streamUpgrade(s, 'http://localhost:5174')).status).toBe(403);
    });
  });
});

describe('MCP_ALLOWED_ORIGINS setting', () => {
  it('normalises origins and keeps null', () => {
    expect(loadConfig({ MCP_ALLOWED_ORIGINS: 'HTTP://LocalHost:5173/, https://app.example.com:443, null,,' }).mcpAllowedOrigins).toEqual([
      'http://localhost:5173',
      'https://app.example.com',
      'null',
    ]);
    expect(loadConfig({}).mcpAllowedOrigins).toEqual([]);
  });

  it('refuses values that are not origins, naming the variable', () => {
    for (const bad of ['localhost:5173', 'http://x.example/path', 'ftp://x.example', '*']) {
      expect(() => loadConfig({ MCP_ALLOWED_ORIGINS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ MCP_ALLOWED_ORIGINS: bad })).toThrow(/MCP_ALLOWED_ORIGINS/);
    }
  });
});

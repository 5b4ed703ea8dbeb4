import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One HTTP request with exactly the headers given, optionally from a chosen local address
 * (127.0.0.2, 127.0.0.3, … reach a server on 127.0.0.1 as distinct clients).
 */
export function rawRequest(baseUrl: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string }): Promise<RawAnswer> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, localAddress: opts.localAddress, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/**
 * Writes `payload` on a plain TCP connection and collects everything the server sends until it closes
 * the connection. Rejects (failing the test) if the server has not closed it within `deadlineMs`.
 */
export function rawExchange(baseUrl: string, payload: string | Buffer, deadlineMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket: Socket = connect({ host: u.hostname, port: Number(u.port) });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${deadlineMs} ms; received so far: ${JSON.stringify(text)}`));
    }, deadlineMs);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => undefined); // a reset after the answer is a close too
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - t0 });
    });
    socket.write(payload);
  });
}

/** Splits a raw HTTP/1.1 response into status, headers and JSON body. */
export function parseRawResponse(text: string): { status: number; headers: Record<string, string>; body: any } {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const raw = rest.join('\r\n\r\n');
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    /* not JSON */
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body };
}

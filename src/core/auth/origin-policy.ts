/** `scheme://host[:port]` as a browser sends it in Origin (default port dropped), or undefined. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a browser page of `origin` may use an endpoint that browsers could otherwise reach with the
 * user's cached credentials (/mcp, the WebSocket stream, which no same-origin policy protects).
 * Allowed: the server's own origin (the page was served under the Host it now calls) and the
 * configured ones. Another local port is another application, and `null` is any sandboxed iframe or
 * file:// page, so both need configuring. A request without Origin is not from a browser page and is
 * not judged here.
 */
export function originAllowed(origin: string, host: string | undefined, configured: ReadonlySet<string>): boolean {
  if (origin === 'null') return configured.has('null');
  const o = normalizeOrigin(origin);
  if (!o) return false;
  if (host && (o === normalizeOrigin(`http://${host}`) || o === normalizeOrigin(`https://${host}`))) return true;
  return configured.has(o);
}

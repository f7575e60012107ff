// Hand-written HTTP servers playing a registry (or a token server) that misbehaves on purpose: they record
// every request so tests can assert which one carried an Authorization header.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly acceptEncoding: string | undefined;
}

export interface FakeServer {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

export async function fakeServer(
  handle: (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void,
  address = '127.0.0.1',
): Promise<FakeServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      acceptEncoding: req.headers['accept-encoding'],
    });
    req.resume();
    req.on('end', () => handle(req, res, seen));
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    host: `${address}:${port}`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A registry that answers every request without credentials with a Basic challenge, and 404 otherwise. */
export function basicRegistry(): Promise<FakeServer> {
  return fakeServer((req, res) => {
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      return;
    }
    res.writeHead(404).end();
  });
}

/** Decodes `Basic <base64>` to `user:password`, for assertions. */
export function basicUser(authorization: string | undefined): string | undefined {
  return authorization?.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString()
    : undefined;
}

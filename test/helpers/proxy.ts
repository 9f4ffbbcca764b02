/**
 * A fault-injection HTTP proxy on loopback in front of a real registry: it forwards every request
 * unchanged, except that it can be told to reset the next N connections, answer an error status to the
 * next N requests, delay the next N requests, or drop a response header.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  /** `127.0.0.1:<port>`: use it as the registry part of references. */
  host: string;
  url: string;
  /** Requests received, faulted ones included. */
  readonly requestCount: number;
  /** Methods and paths of the requests received, in order. */
  readonly requests: readonly string[];
  /** Reset (TCP RST) the connection of each of the next `count` requests instead of answering. */
  resetNext(count: number): void;
  /** Answer the next `count` requests with `status` (default 503) instead of forwarding them. */
  failNext(count: number, status?: number): void;
  /** Hold the next `count` requests for `ms` before forwarding them. */
  delayNext(count: number, ms: number): void;
  /** Remove a header from every forwarded response from now on (e.g. Docker-Content-Digest). */
  stripResponseHeader(name: string): void;
  /** Answer every request from now on with HTTP 200 and an HTML login page, as a captive or corporate proxy does. */
  serveLoginPage(): void;
  /** Answer every request with one of these methods with `status` from now on (a registry refusing pushes). */
  failMethods(methods: readonly string[], status: number): void;
  stop(): Promise<void>;
}

const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method="post"><input name="user"></form></body></html>\n';

/** Start a proxy forwarding to `target` (`host:port`, plain HTTP), on `port` (default: a free one). */
export async function startFaultProxy(target: string, port = 0): Promise<FaultProxy> {
  const [targetHost, targetPort] = splitHostPort(target);
  // No keep-alive upstream, so stop() leaves no sockets behind.
  const agent = new Agent({ keepAlive: false });
  const faults = { resets: 0, failures: 0, failureStatus: 503, delays: 0, delayMs: 0 };
  const stripped = new Set<string>();
  let loginPage = false;
  const failedMethods = { methods: new Set<string>(), status: 0 };
  const requests: string[] = [];

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const upstream = httpRequest(
      { host: targetHost, port: targetPort, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        const headers = { ...answer.headers };
        for (const name of stripped) delete headers[name];
        outgoing.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  };

  const server = createServer((incoming, outgoing) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    if (loginPage) {
      incoming.resume();
      outgoing.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(LOGIN_PAGE)) });
      outgoing.end(incoming.method === 'HEAD' ? undefined : LOGIN_PAGE);
      return;
    }
    if (failedMethods.methods.has(incoming.method ?? '')) {
      incoming.resume();
      outgoing.writeHead(failedMethods.status, { 'Content-Type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'injected by the test proxy' }] }));
      return;
    }
    if (faults.resets > 0) {
      faults.resets--;
      incoming.socket.resetAndDestroy();
      return;
    }
    if (faults.failures > 0) {
      faults.failures--;
      incoming.resume();
      outgoing.writeHead(faults.failureStatus, { 'Content-Type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected by the test proxy' }] }));
      return;
    }
    if (faults.delays > 0) {
      faults.delays--;
      setTimeout(() => forward(incoming, outgoing), faults.delayMs);
      return;
    }
    forward(incoming, outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    get requestCount() {
      return requests.length;
    },
    requests,
    resetNext: (count) => {
      faults.resets = count;
    },
    failNext: (count, status = 503) => {
      faults.failures = count;
      faults.failureStatus = status;
    },
    delayNext: (count, ms) => {
      faults.delays = count;
      faults.delayMs = ms;
    },
    stripResponseHeader: (name) => {
      stripped.add(name.toLowerCase());
    },
    serveLoginPage: () => {
      loginPage = true;
    },
    failMethods: (methods, status) => {
      failedMethods.methods = new Set(methods);
      failedMethods.status = status;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function splitHostPort(target: string): [string, number] {
  const colon = target.lastIndexOf(':');
  return [target.slice(0, colon), Number(target.slice(colon + 1))];
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { LocalAccount, WireResponse } from './account.ts';
import { AwsApiError } from './errors.ts';
import { faultSchema } from './faults.ts';
import { parseJsonDocument } from './protocols/json.ts';
import { REQUEST_BODY_LIMIT_BYTES, requestTooLarge } from './protocols/limits.ts';
import type { Protocol } from './services/service.ts';
import { cloudWatchOf } from './services/cloudwatch-alarms.ts';

export interface RunningEmulator {
  readonly endpoint: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Serves a LocalAccount over HTTP on 127.0.0.1, for the AWS CLI and any SDK pointed at it with --endpoint-url.
 * Paths under /_local/ are the account's own controls (clock, faults, published messages); everything else is an
 * AWS API request.
 *
 * Every request, to either, must come from a program on this machine addressed to this server: one that a web
 * page sent (an `Origin` header, or a `Sec-Fetch-Site` other than none/same-origin) or whose `Host` is not a
 * loopback name with this server's port (a DNS name rebound to 127.0.0.1) is refused with 403 before its body
 * is read. Bodies over REQUEST_BODY_LIMIT_BYTES get 413 without being held in memory.
 */
export async function serve(account: LocalAccount, port = 4566): Promise<RunningEmulator> {
  let boundPort = port;
  const server = createServer((req, res) => answer(account, boundPort, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  boundPort = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function answer(account: LocalAccount, port: number, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  const isControl = path.startsWith('/_local/');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  /** Answers before the body is read: the rest of it is read and dropped, so the client sees the answer. */
  const refuse = (error: AwsApiError | ((protocol: Protocol) => AwsApiError)): void => {
    const close = { connection: 'close' };
    if (isControl) {
      const { httpStatus, message } = typeof error === 'function' ? error('json') : error;
      sendJson(res, httpStatus, { error: message }, close);
    } else {
      send(res, account.refuse({ headers }, error), close);
    }
    req.resume();
  };

  const crossSite = crossSiteRefusal(headers, port);
  if (crossSite !== undefined) return refuse((protocol) => accessDenied(protocol, crossSite));
  const declared = Number(headers['content-length']);
  if (declared > REQUEST_BODY_LIMIT_BYTES) return refuse(requestTooLarge(declared));

  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= REQUEST_BODY_LIMIT_BYTES) chunks.push(chunk);
    else if (chunks.length > 0) chunks.length = 0;
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (received > REQUEST_BODY_LIMIT_BYTES) return refuse(requestTooLarge(received));
    const rawBody = Buffer.concat(chunks);
    const body = rawBody.toString('utf8');
    if (isControl) return control(account, method, path, body, res);
    // Asynchronous services (DynamoDB) answer later; every other request is answered before handleAsync returns.
    account.handleAsync({ method, path, headers, body, rawBody }).then(
      (reply) => send(res, reply),
      () => res.destroy(),
    );
  });
}

function send(res: ServerResponse, reply: WireResponse, extra: Record<string, string> = {}): void {
  const payload = reply.binaryBody ?? reply.body;
  res.writeHead(reply.status, {
    ...reply.headers,
    ...extra,
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json',
    ...extra,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Why a request must be refused as cross-site, or undefined. Programs (the AWS CLI, the SDKs, curl) send no
 * `Origin` and no `Sec-Fetch-Site`; browsers send one or both on every request a page makes, `text/plain` POSTs
 * included, which need no CORS preflight. The Host check is what stops DNS rebinding, where a page's own name
 * is made to resolve to 127.0.0.1 and its requests arrive same-origin.
 */
export function crossSiteRefusal(
  headers: Readonly<Record<string, string | undefined>>,
  port: number,
): string | undefined {
  const origin = headers['origin'];
  if (origin !== undefined) {
    return (
      `The request carries an Origin header (${origin}): the local account answers programs (the AWS CLI, ` +
      'the SDKs), not web pages, so that no page you visit can change it. Send it without an Origin header.'
    );
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none' && site !== 'same-origin') {
    return (
      `The request was sent by a web page (Sec-Fetch-Site: ${site}): the local account answers programs ` +
      '(the AWS CLI, the SDKs), not web pages, so that no page you visit can change it.'
    );
  }
  const host = headers['host'];
  if (!isLoopbackHost(host, port)) {
    return (
      `The request is addressed to Host ${host === undefined ? '(none)' : `'${host}'`}, not to this emulator: ` +
      `it answers only 127.0.0.1:${port}, localhost:${port} and [::1]:${port}, which keeps out web pages whose ` +
      `DNS name is made to resolve to 127.0.0.1. Use the endpoint http://127.0.0.1:${port}.`
    );
  }
  return undefined;
}

/** `127.x.y.z`, `localhost` or `[::1]`, with `port` (80 when the Host names none). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  const match = /^(\[::1\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host?.toLowerCase() ?? '');
  if (!match) return false;
  const [, name = '', portText] = match;
  if ((portText === undefined ? 80 : Number(portText)) !== port) return false;
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = name.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((octet) => /^(0|[1-9]\d{0,2})$/.test(octet) && Number(octet) <= 255)
  );
}

/** Each protocol's own code for "not allowed": EC2's, the other query services', the JSON services'. */
function accessDenied(protocol: Protocol, message: string): AwsApiError {
  const code =
    protocol === 'ec2'
      ? 'UnauthorizedOperation'
      : protocol === 'query'
        ? 'AccessDenied'
        : 'AccessDeniedException';
  return new AwsApiError(code, message, 403);
}

/**
 * One virtual-time step at most: a year (366 days). No Step Functions Standard execution outlives one year,
 * so nothing a rehearsal runs needs a longer jump, and the simulation's work per request stays bounded.
 */
const MAX_ADVANCE_SECONDS = 366 * 24 * 3600;
/** The last instant an ISO 8601 timestamp with a four-digit year can write, as AWS's responses carry them. */
const LATEST_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const advanceSchema = z
  .object({
    seconds: z
      .number({ error: 'must be a number of seconds' })
      .positive('must be more than 0')
      .max(MAX_ADVANCE_SECONDS, `must be at most ${MAX_ADVANCE_SECONDS} (366 days) in one step`),
  })
  .strict();

/** The body of a control: one JSON object, or nothing. Throws with the message to answer 400 with. */
function readControlBody(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return parseJsonDocument(body);
  } catch (error) {
    throw new ControlError(`The body is not JSON: ${(error as Error).message}`);
  }
}

class ControlError extends Error {
  constructor(readonly detail: string | readonly string[]) {
    super(Array.isArray(detail) ? detail.join('; ') : String(detail));
  }
}

const issues = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);

/**
 * The account's own controls. Each reads and checks its whole request first and changes the account only
 * once the request is known to be good, so a refused control changes nothing.
 */
function control(
  account: LocalAccount,
  method: string,
  path: string,
  body: string,
  res: ServerResponse,
): void {
  const route = `${method} ${path.split('?')[0]}`;
  let apply: () => [number, unknown];
  try {
    apply = checkControl(account, route, body);
  } catch (error) {
    if (error instanceof ControlError) return sendJson(res, 400, { error: error.detail });
    throw error;
  }
  try {
    const [status, value] = apply();
    sendJson(res, status, value);
  } catch (error) {
    sendJson(res, 500, {
      error: `The local account failed: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** Validates a control request; returns what carrying it out does, run only after every check has passed. */
function checkControl(account: LocalAccount, route: string, body: string): () => [number, unknown] {
  switch (route) {
    case 'GET /_local/clock':
      return () => [200, { now: account.now().toISOString() }];
    case 'POST /_local/clock/advance': {
      const parsed = advanceSchema.safeParse(readControlBody(body));
      if (!parsed.success) {
        throw new ControlError(
          `Send {"seconds": N} with 0 < N <= ${MAX_ADVANCE_SECONDS}: ${issues(parsed.error).join('; ')}`,
        );
      }
      const { seconds } = parsed.data;
      if (account.clock.now() + seconds * 1000 > LATEST_TIME_MS) {
        throw new ControlError(
          `seconds: ${seconds} would move the clock past ${new Date(LATEST_TIME_MS).toISOString()}, the last ` +
            'time an AWS timestamp can carry.',
        );
      }
      return () => {
        account.advance(seconds);
        return [200, { now: account.now().toISOString() }];
      };
    }
    case 'GET /_local/faults':
      return () => [200, { faults: account.faults.list() }];
    case 'POST /_local/faults': {
      const parsed = faultSchema.safeParse(readControlBody(body));
      if (!parsed.success) throw new ControlError(issues(parsed.error));
      const fault = parsed.data;
      const group = 'group' in fault ? fault.group : undefined;
      if (group !== undefined && !account.state.autoScalingGroups.has(group)) {
        const groups = [...account.state.autoScalingGroups.keys()].join(', ') || 'none';
        throw new ControlError(`group: "${group}" is not a group of this account (groups: ${groups})`);
      }
      if (fault.kind === 'alarm' && !cloudWatchOf(account).alarms.has(fault.alarmName)) {
        const alarms = [...cloudWatchOf(account).alarms.keys()].join(', ') || 'none';
        throw new ControlError(
          `alarmName: "${fault.alarmName}" is not an alarm of this account (alarms: ${alarms}): create it with PutMetricAlarm first`,
        );
      }
      return () => [201, { fault: account.faults.add(fault) }];
    }
    case 'DELETE /_local/faults':
      return () => {
        account.faults.clear();
        return [200, { faults: [] }];
      };
    case 'GET /_local/sns/messages':
      return () => [200, { messages: account.state.published }];
    default:
      return () => [
        404,
        {
          error: `No control at ${route}.`,
          controls: [
            'GET /_local/clock',
            'POST /_local/clock/advance {"seconds":N}',
            'GET|POST|DELETE /_local/faults',
            'GET /_local/sns/messages',
          ],
        },
      ];
  }
}

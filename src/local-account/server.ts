import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalAccount } from './account.ts';
import { faultSchema } from './faults.ts';
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
 */
export async function serve(account: LocalAccount, port = 4566): Promise<RunningEmulator> {
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        const path = req.url ?? '/';
        if (path.startsWith('/_local/'))
          return control(account, req.method ?? 'GET', path, body.toString('utf8'), res);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
        const reply = account.handle({
          method: req.method ?? 'GET',
          path,
          headers,
          body: body.toString('utf8'),
          rawBody: body,
        });
        const payload = reply.binaryBody ?? reply.body;
        res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`local account: ${error instanceof Error ? error.message : String(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function control(
  account: LocalAccount,
  method: string,
  path: string,
  body: string,
  res: ServerResponse,
): void {
  const send = (status: number, value: unknown) => {
    const text = JSON.stringify(value, null, 2);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const route = `${method} ${path.split('?')[0]}`;
  try {
    switch (route) {
      case 'GET /_local/clock':
        return send(200, { now: account.now().toISOString() });
      case 'POST /_local/clock/advance': {
        const seconds = Number((JSON.parse(body || '{}') as { seconds?: unknown }).seconds);
        if (!(seconds >= 0)) return send(400, { error: 'Send {"seconds": N} with N >= 0.' });
        account.advance(seconds);
        return send(200, { now: account.now().toISOString() });
      }
      case 'GET /_local/faults':
        return send(200, { faults: account.faults.list() });
      case 'POST /_local/faults': {
        const parsed = faultSchema.safeParse(JSON.parse(body || '{}'));
        if (!parsed.success)
          return send(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
        const group = 'group' in parsed.data ? parsed.data.group : undefined;
        if (group !== undefined && !account.state.autoScalingGroups.has(group)) {
          const groups = [...account.state.autoScalingGroups.keys()].join(', ') || 'none';
          return send(400, { error: `group: "${group}" is not a group of this account (groups: ${groups})` });
        }
        if (parsed.data.kind === 'alarm' && !cloudWatchOf(account).alarms.has(parsed.data.alarmName)) {
          const alarms = [...cloudWatchOf(account).alarms.keys()].join(', ') || 'none';
          return send(400, {
            error: `alarmName: "${parsed.data.alarmName}" is not an alarm of this account (alarms: ${alarms}): create it with PutMetricAlarm first`,
          });
        }
        return send(201, { fault: account.faults.add(parsed.data) });
      }
      case 'DELETE /_local/faults':
        account.faults.clear();
        return send(200, { faults: [] });
      case 'GET /_local/sns/messages':
        return send(200, { messages: account.state.published });
      default:
        return send(404, {
          error: `No control at ${route}.`,
          controls: [
            'GET /_local/clock',
            'POST /_local/clock/advance {"seconds":N}',
            'GET|POST|DELETE /_local/faults',
            'GET /_local/sns/messages',
          ],
        });
    }
  } catch (error) {
    send(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

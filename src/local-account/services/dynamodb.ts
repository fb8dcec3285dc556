import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { WireRequest, WireResponse } from '../account.ts';

/**
 * DynamoDB (JSON 1.0, `DynamoDB_20120810.*`), served by dynalite: a well-kept implementation of DynamoDB's API on
 * an in-memory LevelDB (memory-level), validated against DynamoDB itself by its authors. We do not write our own:
 * condition and update expressions, paging and the errors are where a hand-written emulator would be kinder than
 * AWS. The account hands dynalite the request as it came over the wire and returns its answer unchanged; no
 * socket is opened (dynalite's HTTP request listener is called with the request and a response that collects).
 *
 * Tables are ACTIVE at once (createTableMs 0): the rollout creates its table before any execution, as CloudFormation
 * does, and waits for nothing. Time-stamped fields dynalite writes (CreationDateTime) use the real clock, not the
 * account's virtual one; nothing in the rollout reads them.
 */

type Listener = (req: EventEmitter, res: object) => void;
interface DynaliteServer {
  listeners(event: 'request'): Listener[];
}

const load = createRequire(import.meta.url);

export class LocalDynamoDB {
  private readonly listener: Listener;

  constructor() {
    const dynalite = load('dynalite') as (options: Record<string, unknown>) => DynaliteServer;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const [listener] = server.listeners('request');
    if (!listener) throw new Error('dynalite: no request listener');
    this.listener = listener;
  }

  /** Answers one DynamoDB request. */
  handle(request: WireRequest): Promise<WireResponse> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (value !== undefined) headers[name.toLowerCase()] = value;
      const req = Object.assign(new EventEmitter(), {
        headers,
        method: request.method,
        url: request.path,
      });
      const responseHeaders: Record<string, string> = {};
      const res = {
        statusCode: 200,
        setHeader(name: string, value: unknown) {
          responseHeaders[name.toLowerCase()] = String(value);
        },
        getHeader(name: string) {
          return responseHeaders[name.toLowerCase()];
        },
        end(body?: string | Buffer) {
          const text = body === undefined ? '' : typeof body === 'string' ? body : body.toString('utf8');
          // Node's HTTP server would set these; the SDK reads neither from a local answer.
          delete responseHeaders['transfer-encoding'];
          resolve({ status: this.statusCode, headers: responseHeaders, body: text });
        },
      };
      this.listener(req, res);
      const body = request.rawBody ? Buffer.from(request.rawBody) : Buffer.from(request.body, 'utf8');
      if (body.length > 0) req.emit('data', body);
      req.emit('end');
    });
  }
}

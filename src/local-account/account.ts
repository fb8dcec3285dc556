import { AwsApiError, invalidAction } from './errors.ts';
import { FaultInjector } from './faults.ts';
import { IdGenerator } from './ids.ts';
import { VirtualClock } from './clock.ts';
import { Input } from './protocols/input.ts';
import { LambdaRegistry } from './step-functions/lambdas.ts';
import { expandQuery, parseForm, queryError, queryResponse } from './protocols/query.ts';
import type { ServiceDefinition } from './services/service.ts';
import { emptyState, type AccountState } from './state.ts';

/** A request as it arrives on the wire (from the HTTP server, or from the in-process SDK handler). */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One call the account answered: the audit trail tests read to prove what a step did, or did not, change. */
export interface CallRecord {
  readonly at: Date;
  readonly service: string;
  readonly action: string;
  readonly errorCode?: string;
}

export interface LocalAccountOptions {
  /** Default 123456789012. */
  readonly accountId?: string;
  /** Default us-east-1. */
  readonly region?: string;
  /** Virtual time the account starts at. Default 2026-01-01T00:00:00Z. */
  readonly startTime?: Date;
}

export type ServiceFactory = (account: LocalAccount) => ServiceDefinition;

/**
 * A local AWS account: the state of EC2, Auto Scaling, SSM and SNS in memory, answering their wire protocols,
 * in virtual time. Services are plugged in by factories so each lives in its own module.
 */
export class LocalAccount {
  readonly accountId: string;
  readonly region: string;
  readonly clock: VirtualClock;
  readonly state: AccountState = emptyState();
  readonly faults = new FaultInjector();
  readonly ids = new IdGenerator();
  readonly calls: CallRecord[] = [];
  /** Local code that Step Functions Tasks run in place of Lambda functions. */
  readonly lambdas = new LambdaRegistry();
  private readonly services: ServiceDefinition[] = [];

  constructor(options: LocalAccountOptions = {}, factories: readonly ServiceFactory[] = []) {
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.clock = new VirtualClock(options.startTime ?? Date.UTC(2026, 0, 1));
    for (const factory of factories) this.addService(factory(this));
  }

  addService(service: ServiceDefinition): void {
    this.services.push(service);
  }

  service(name: ServiceDefinition['name']): ServiceDefinition | undefined {
    return this.services.find((s) => s.name === name);
  }

  /** Moves virtual time forward, running the fleet's simulation. */
  advance(seconds: number): void {
    this.clock.advance(seconds);
  }

  now(): Date {
    return this.clock.date();
  }

  /** Answers one wire request. Never throws: every failure becomes the service's error response. */
  handle(request: WireRequest): WireResponse {
    const target = request.headers['x-amz-target'];
    if (target) return this.handleJson(target, request);
    return this.handleQuery(request);
  }

  private handleJson(target: string, request: WireRequest): WireResponse {
    const [prefix, action = ''] = target.split('.');
    const service = this.services.find((s) => s.protocol === 'json' && s.targetPrefix === prefix);
    const requestId = this.ids.uuid('request');
    const contentType = `application/x-amz-json-${service?.jsonVersion ?? '1.1'}`;
    const fail = (error: AwsApiError, name = service?.name ?? 'unknown'): WireResponse => {
      this.record(name, action, error.code);
      return {
        status: error.httpStatus,
        headers: {
          'content-type': contentType,
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': error.code,
        },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    };
    if (!service) return fail(new AwsApiError('UnknownOperationException', `No service answers ${target}.`));
    try {
      let parsed: unknown = {};
      if (request.body.trim() !== '') parsed = JSON.parse(request.body);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new AwsApiError('SerializationException', 'The request body must be a JSON object.');
      }
      const result = this.dispatch(service, action, new Input(parsed as Record<string, unknown>), requestId);
      this.record(service.name, action);
      return {
        status: 200,
        headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
        body: JSON.stringify(result ?? {}, epochSeconds),
      };
    } catch (error) {
      if (error instanceof SyntaxError) return fail(new AwsApiError('SerializationException', error.message));
      return fail(toApiError(error));
    }
  }

  private handleQuery(request: WireRequest): WireResponse {
    const query = request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '';
    const form = parseForm(request.method === 'GET' ? query : request.body);
    const action = form.get('Action') ?? '';
    const version = form.get('Version');
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(
      request.headers['authorization'] ?? '',
    )?.[1];
    const service =
      this.services.find(
        (s) => s.protocol !== 'json' && s.apiVersion === version && (!scope || s.name === scope),
      ) ?? this.services.find((s) => s.protocol !== 'json' && s.apiVersion === version);
    const requestId = this.ids.uuid('request');
    const dialect = service?.protocol === 'ec2' ? 'ec2' : 'query';
    const xmlns = service?.xmlns ?? '';
    const headers = { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId };
    try {
      if (!service) {
        throw new AwsApiError(
          'InvalidAction',
          `No service here answers Action=${action} Version=${version ?? '(none)'}.`,
        );
      }
      const result = this.dispatch(service, action, new Input(expandQuery(form)), requestId);
      this.record(service.name, action);
      return { status: 200, headers, body: queryResponse(dialect, action, xmlns, result, requestId) };
    } catch (error) {
      const apiError = toApiError(error);
      this.record(service?.name ?? 'unknown', action, apiError.code);
      return {
        status: apiError.httpStatus,
        headers,
        body: queryError(dialect, xmlns, apiError.code, apiError.message, apiError.fault, requestId),
      };
    }
  }

  private dispatch(service: ServiceDefinition, action: string, input: Input, requestId: string) {
    const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
    if (!operation) throw invalidAction(action, service.name);
    if (this.faults.takeThrottle(service.name, action)) {
      throw new AwsApiError(service.throttling.code, 'Rate exceeded', service.throttling.httpStatus);
    }
    return operation(input, { service: service.name, action, requestId });
  }

  private record(service: string, action: string, errorCode?: string): void {
    this.calls.push({ at: this.now(), service, action, ...(errorCode ? { errorCode } : {}) });
  }
}

/** JSON protocols carry timestamps as epoch seconds; `toJSON` has already run when a replacer sees `v`. */
function epochSeconds(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  return original instanceof Date ? original.getTime() / 1000 : value;
}

function toApiError(error: unknown): AwsApiError {
  if (error instanceof AwsApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsApiError('InternalFailure', `The local account failed: ${message}`, 500, 'Receiver');
}

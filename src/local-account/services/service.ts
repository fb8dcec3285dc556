import type { Input } from '../protocols/input.ts';

export type Protocol = 'ec2' | 'query' | 'json';

export interface RequestContext {
  readonly service: string;
  readonly action: string;
  readonly requestId: string;
}

/**
 * One API operation. It reads and validates its input first, then changes state, then returns the response
 * members (XML element names for the query protocols, JSON member names for JSON), or throws AwsApiError.
 */
export type Operation = (input: Input, ctx: RequestContext) => Record<string, unknown> | undefined;

export interface ServiceDefinition {
  /** The SigV4 signing name, also used in fault and audit names (`autoscaling:StartInstanceRefresh`). */
  readonly name: 'ec2' | 'autoscaling' | 'ssm' | 'sns' | 'states' | 'elasticloadbalancing';
  readonly protocol: Protocol;
  /** API version carried by query requests (`Version=2016-11-15`). */
  readonly apiVersion?: string;
  /** XML namespace of query responses. */
  readonly xmlns?: string;
  /** JSON services: the X-Amz-Target prefix (`AmazonSSM`) and content type version. */
  readonly targetPrefix?: string;
  readonly jsonVersion?: '1.0' | '1.1';
  /** The error code and HTTP status this service uses when it throttles. */
  readonly throttling: { readonly code: string; readonly httpStatus: number };
  readonly operations: Readonly<Record<string, Operation>>;
}

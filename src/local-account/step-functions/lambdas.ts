/**
 * Local code bound to Lambda function ARNs. A Task whose Lambda is bound runs that code in process; a Task whose
 * Lambda is not bound fails the execution: the local account never calls real AWS.
 */
export type LambdaHandler = (event: unknown) => Promise<unknown>;

export class LambdaRegistry {
  private readonly handlers = new Map<string, LambdaHandler>();

  /** Binds `handler` to a function, by full ARN or by name (`arn:aws:lambda:us-east-1:123:function:Preflight` or `Preflight`). */
  bind(functionArnOrName: string, handler: LambdaHandler): void {
    this.handlers.set(functionName(functionArnOrName), handler);
  }

  find(functionArnOrName: string): LambdaHandler | undefined {
    return this.handlers.get(functionName(functionArnOrName));
  }

  get names(): string[] {
    return [...this.handlers.keys()];
  }
}

/** `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` -> NAME; a bare name stays as it is. */
export function functionName(functionArnOrName: string): string {
  const match = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(:.+)?$/.exec(functionArnOrName);
  return match ? match[1]! : functionArnOrName;
}

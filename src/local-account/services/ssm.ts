import type { LocalAccount } from '../account.ts';
import type { ServiceDefinition } from './service.ts';

export function ssmService(account: LocalAccount): ServiceDefinition {
  void account;
  return {
    name: 'ssm',
    protocol: 'json',
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    throttling: { code: 'ThrottlingException', httpStatus: 400 },
    operations: {},
  };
}

import type { LocalAccount } from '../account.ts';
import type { ServiceDefinition } from './service.ts';

export function ec2Service(account: LocalAccount): ServiceDefinition {
  void account;
  return {
    name: 'ec2',
    protocol: 'ec2',
    apiVersion: '2016-11-15',
    xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
    throttling: { code: 'RequestLimitExceeded', httpStatus: 503 },
    operations: {},
  };
}

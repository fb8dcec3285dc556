import type { LocalAccount } from '../account.ts';
import type { ServiceDefinition } from './service.ts';

export function autoScalingService(account: LocalAccount): ServiceDefinition {
  void account;
  return {
    name: 'autoscaling',
    protocol: 'query',
    apiVersion: '2011-01-01',
    xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
    throttling: { code: 'Throttling', httpStatus: 400 },
    operations: {},
  };
}

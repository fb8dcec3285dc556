import type { LocalAccount } from '../account.ts';
import type { ServiceDefinition } from './service.ts';

export function snsService(account: LocalAccount): ServiceDefinition {
  void account;
  return {
    name: 'sns',
    protocol: 'query',
    apiVersion: '2010-03-31',
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    throttling: { code: 'Throttled', httpStatus: 429 },
    operations: {},
  };
}

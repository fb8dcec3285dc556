import { applyFleet, type Fleet } from './fleet.ts';
import { LocalAccount, type LocalAccountOptions, type ServiceFactory } from './account.ts';
import { autoScalingService } from './services/autoscaling.ts';
import { cloudWatchService } from './services/cloudwatch.ts';
import { dynamoDbService } from './services/dynamodb.ts';
import { ec2Service } from './services/ec2.ts';
import { elbv2Service } from './services/elbv2.ts';
import { iamService } from './services/iam.ts';
import { snsService } from './services/sns.ts';
import { ssmService } from './services/ssm.ts';
import { statesService } from './services/states.ts';

export { LocalAccount } from './account.ts';
export { inProcessClientConfig, InProcessHandler, type InProcessClientOptions } from './in-process.ts';
export { serve } from './server.ts';
export { stepFunctionsOf } from './services/states.ts';
export { cloudWatchOf } from './services/cloudwatch-alarms.ts';
export {
  parseFleet,
  readFleetFile,
  fleetSchema,
  FleetFileError,
  type Fleet,
  type FleetFile,
} from './fleet.ts';

/** The services every local account answers. */
export const serviceFactories: readonly ServiceFactory[] = [
  ec2Service,
  autoScalingService,
  ssmService,
  snsService,
  statesService,
  iamService,
  cloudWatchService,
  elbv2Service,
];

/**
 * An empty local account with EC2, Auto Scaling, SSM, SNS, Step Functions, IAM (instance profiles), CloudWatch,
 * Elastic Load Balancing v2 and DynamoDB (asynchronous: answered through `handleAsync`).
 */
export function createLocalAccount(options: LocalAccountOptions = {}): LocalAccount {
  const account = new LocalAccount(options, serviceFactories);
  account.addAsyncService(dynamoDbService(account));
  return account;
}

/** A local account seeded with a fleet (see fleet.ts); resolves once the fleet's instances are in service. */
export async function createLocalAccountFromFleet(fleet: Fleet): Promise<LocalAccount> {
  const account = createLocalAccount({
    accountId: fleet.accountId,
    region: fleet.region,
    startTime: new Date(fleet.startTime),
  });
  await applyFleet(account, fleet);
  return account;
}

// npm run bench: the figures the README records. Wall time is measured here, never asserted in tests.
import { benchBadRequests } from './bad-requests.ts';
import { benchLocalAccount } from './local-account.ts';
import { benchRehearsal } from './rehearsal.ts';

const fmt = (n: number, digits = 0) => n.toFixed(digits);

const account = await benchLocalAccount(100, 10);
console.log('local account: instance refreshes of 100 groups x 10 instances, to Successful, in virtual time');
console.log(`  seed fleet (100 groups, 1000 instances):  ${fmt(account.seedWallMs)} ms wall`);
console.log(
  `  refresh all groups:                       ${fmt(account.refreshWallMs)} ms wall  (goal < 1000 ms), ` +
    `${fmt(account.simulatedSeconds)} s simulated, ${account.apiCalls} API calls`,
);
console.log(
  `    of which inside the local account:       ${fmt(account.accountWallMs)} ms (the rest is the AWS SDK clients' own work)`,
);
console.log(
  `  memory after run:                         heap ${fmt(account.heapUsedMb, 1)} MiB, rss ${fmt(account.rssMb, 1)} MiB`,
);

const rollout = await benchRehearsal(100, 10);
console.log('');
console.log(
  'rehearsal: a whole rollout of 100 groups x 10 instances through the real state machine definition',
);
console.log(`  result:                                   ${rollout.status}`);
console.log(
  `  wall time:                                ${fmt(rollout.wallMs)} ms (${fmt(rollout.simulatedSeconds / 3600, 1)} h simulated)`,
);
console.log(`  state transitions:                        ${rollout.stateTransitions}`);
console.log(
  `  history events:                           ${rollout.historyEvents} (${fmt(rollout.historyEventsPerGroup, 1)} per group; Step Functions fails an execution past 25,000)`,
);
console.log(
  `  group-to-group handoff (simulated):       mean ${fmt(rollout.handoffSeconds.mean)} s, max ${fmt(rollout.handoffSeconds.max)} s (refresh ended -> next refresh started)`,
);
console.log(
  `  largest state payload:                    ${fmt(rollout.largestStateBytes / 1024, 1)} KiB (Step Functions' limit: 256 KiB)`,
);
console.log(`  heap after run:                           ${fmt(rollout.heapUsedMb, 1)} MiB`);

console.log('');
console.log(
  'bad requests: the costliest one request can be (docs/local-account.md, "Bad requests"), median of 5',
);
for (const timing of await benchBadRequests()) {
  console.log(
    `  ${`${timing.name}:`.padEnd(42)} ${fmt(timing.ms, 1).padStart(6)} ms  (HTTP ${timing.status})`,
  );
}

import { it } from 'vitest';
import { stepFunctionsOf } from '../src/local-account/services/states.ts';
import { rehearse } from '../src/rehearsal/rehearse.ts';
import { parseConfig } from '../src/config/load.ts';
import { config as base, fleet, NEW_IMAGE } from './rehearsal/example-fleet.ts';
it('debug', async () => {
  const config = parseConfig({
    ...base,
    autoScalingGroupNames: undefined,
    waves: [
      { name: 'c', autoScalingGroupNames: ['web'], bakeMinutes: 5 },
      { name: 'r', autoScalingGroupNames: ['api', 'worker'], maxParallel: 2 },
    ],
  });

  let acct: any;
  const t = setInterval(() => {
    if (!acct) return;
    const c = acct.clock as any;
    console.log(
      'CLOCK',
      new Date(c.now()).toISOString(),
      'p',
      c.participants,
      's',
      c.sleeping,
      'h',
      c.holds,
      'q',
      c.queue.length,
    );
    for (const e of stepFunctionsOf(acct).executions.values())
      console.log(
        'EXEC',
        e.stateMachineArn.split(':').pop(),
        e.status,
        e.history.at(-1)?.type,
        (e as any).timeline?.asleep,
      );
  }, 3000);
  const r = await rehearse({
    prepare: (a) => {
      acct = a;
    },
    config,
    fleet,
    imageId: NEW_IMAGE,
    wrapStep: (step, h) => async (e) => {
      console.log('CALL', step, JSON.stringify(e).slice(0, 120));
      try {
        return await h(e);
      } catch (err) {
        console.log('STEP', step, (err as Error).name, (err as Error).message.slice(0, 400));
        throw err;
      }
    },
  });

  console.log('PARENT', r.report.status);
  for (const e of stepFunctionsOf(r.account).executions.values())
    console.log(e.stateMachineArn.split(':').pop(), e.status, e.error, (e.cause ?? '').slice(0, 600));
}, 60000);

import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { InvocationContext, type Timer, type TimerFunctionOptions } from '@azure/functions';
import type { HostLog } from './log';

export interface TimerFunction {
  name: string;
  options: TimerFunctionOptions;
}

/**
 * Reads an NCRONTAB schedule as the Functions host does: six fields, seconds first
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), `%SETTING%` resolved from the environment.
 */
export function parseNcrontab(schedule: string, env: NodeJS.ProcessEnv = process.env): Cron {
  return new Cron(resolveNcrontab(schedule, env), { paused: true, ...CRON_OPTIONS });
}

// legacyMode false: day-of-month and day-of-week must both match, as in NCRONTAB.
const CRON_OPTIONS = { legacyMode: false, timezone: 'UTC' } as const;

function resolveNcrontab(schedule: string, env: NodeJS.ProcessEnv): string {
  const resolved = schedule.replace(/^%([A-Za-z0-9_]+)%$/, (_, name: string) => {
    const value = env[name];
    if (!value) throw new Error(`timer schedule refers to setting ${name}, which is not set`);
    return value;
  });
  const fields = resolved.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(
      `"${resolved}" is not an NCRONTAB schedule: it needs six fields, seconds first ({second} {minute} {hour} {day} {month} {day-of-week})`,
    );
  }
  return resolved;
}

export class TimerScheduler {
  private readonly jobs: Cron[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly functions: TimerFunction[],
    private readonly log: HostLog,
  ) {}

  start(): void {
    for (const fn of this.functions) {
      let last = new Date();
      const job: Cron = new Cron(resolveNcrontab(fn.options.schedule, process.env), { ...CRON_OPTIONS, protect: true }, (): Promise<void> => {
        const fired = new Date();
        const work: Promise<void> = this.invoke(fn, last, job.nextRun() ?? fired).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
        last = fired;
        return work;
      });
      this.jobs.push(job);
      if (fn.options.runOnStartup) {
        const work: Promise<void> = this.invoke(fn, last, job.nextRun() ?? last).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs) job.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async invoke(fn: TimerFunction, last: Date, next: Date): Promise<void> {
    if (this.stopped) return;
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: { last: last.toISOString(), next: next.toISOString(), lastUpdated: new Date().toISOString() },
    };
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: this.log.forInvocation(fn.name, invocationId),
    });
    try {
      await fn.options.handler(timer, context);
    } catch (error) {
      this.log.error(`${fn.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

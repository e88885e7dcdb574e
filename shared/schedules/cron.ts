import { Cron } from 'croner';

/**
 * NCRONTAB, as Azure Functions timers read it: six fields, seconds first
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), evaluated in an IANA time zone.
 * croner does the calendar arithmetic (it is what the local host's timers use); `legacyMode: false`
 * makes day-of-month and day-of-week both have to match, as in NCRONTAB.
 *
 * Across daylight-saving changes (croner's behaviour, tested in test/schedules/cron.test.ts): a time
 * that does not exist on the spring-forward day (02:30 in Europe/Berlin) runs once at the same wall
 * time an hour on (03:30); a time that happens twice on the fall-back day runs once, not twice.
 */

export class ScheduleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleSyntaxError';
  }
}

/** At most this often: a schedule that fires every second would starve every other job. */
export const MIN_INTERVAL_SECONDS = 60;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cronOf(expression: string, timeZone: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleSyntaxError(
      `"${expression.slice(0, 100)}" is not an NCRONTAB schedule: it needs six fields, seconds first ({second} {minute} {hour} {day} {month} {day-of-week}), like "0 0 2 * * *" for 02:00 every day`,
    );
  }
  if (!isTimeZone(timeZone)) throw new ScheduleSyntaxError(`"${timeZone.slice(0, 100)}" is not an IANA time zone (like Europe/Amsterdam or UTC)`);
  try {
    return new Cron(fields.join(' '), { paused: true, legacyMode: false, timezone: timeZone });
  } catch (error) {
    throw new ScheduleSyntaxError(`"${expression.slice(0, 100)}" cannot be read: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
  }
}

/** Checks an expression and zone; throws ScheduleSyntaxError saying what is wrong. */
export function checkSchedule(expression: string, timeZone: string): void {
  const cron = cronOf(expression, timeZone);
  const upcoming = cron.nextRuns(6, new Date());
  const first = upcoming[0];
  if (!first) throw new ScheduleSyntaxError(`"${expression.slice(0, 100)}" never runs`);
  if (upcoming.some((time, index) => index > 0 && time.getTime() - upcoming[index - 1]!.getTime() < MIN_INTERVAL_SECONDS * 1000)) {
    throw new ScheduleSyntaxError(`"${expression.slice(0, 100)}" runs more often than once a minute; a schedule may run at most once every ${MIN_INTERVAL_SECONDS} seconds`);
  }
}

/** The next `count` run times strictly after `after`. */
export function nextRunTimes(expression: string, timeZone: string, after: Date, count = 1): Date[] {
  return cronOf(expression, timeZone).nextRuns(count, after);
}

export function nextRunTime(expression: string, timeZone: string, after: Date): Date | undefined {
  return nextRunTimes(expression, timeZone, after, 1)[0];
}

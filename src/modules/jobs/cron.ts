import { CronExpressionParser } from 'cron-parser';

/**
 * Cron expressions are parsed and stepped by cron-parser, in the store's IANA time zone: "0 6 * * *"
 * is 06:00 on the store's wall clock, whatever the server's zone, across daylight-saving changes.
 */

export class CronError extends Error {}

/** The next time the expression fires strictly after `after`, in `timeZone`. */
export function nextRun(cron: string, timeZone: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timeZone }).next().toDate();
}

const FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'];

/**
 * Checks an expression a person typed: five fields (minute hour day-of-month month day-of-week) or
 * an alias such as @daily. Throws CronError with a message that says what is wrong.
 */
export function checkCron(cron: string): void {
  const trimmed = cron.trim();
  const fields = trimmed.split(/\s+/);
  if (!trimmed.startsWith('@') && fields.length !== 5) {
    throw new CronError(
      `'${cron}' has ${fields.length} field${fields.length === 1 ? '' : 's'}; a schedule needs five: ${FIELDS.join(', ')} (e.g. '0 6 * * *' for 06:00 every day)`,
    );
  }
  try {
    CronExpressionParser.parse(trimmed, { strict: false });
  } catch (error) {
    throw new CronError(`'${cron}' is not a valid cron expression: ${(error as Error).message}`);
  }
}

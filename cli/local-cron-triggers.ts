// wrangler.toml's cron triggers for the local Workers hub: Cloudflare fires them in production; locally this does, each minute.

/** Each field's lowest value: a step counts from it, so "*\/2" in the day-of-month field means the 1st, 3rd, 5th … */
const FIELD_MIN = [0, 0, 1, 1, 0] as const;

/**
 * One cron field ("*", "*\/15", "5", "1,31") as a test of a value, or undefined when the syntax is not one of those.
 * `min` is the field's lowest value (0 for minutes, hours and weekdays; 1 for days and months).
 */
function fieldTest(field: string, min: number): ((value: number) => boolean) | undefined {
  if (field === "*") return () => true;
  const step = /^\*\/(\d+)$/.exec(field);
  if (step) {
    const every = Number(step[1]);
    return every > 0 ? (value) => (value - min) % every === 0 : undefined;
  }
  if (/^\d+(,\d+)*$/.test(field)) {
    const values = new Set(field.split(",").map(Number));
    return (value) => values.has(value);
  }
  return undefined;
}

/**
 * Whether a five-field cron expression (minute hour day-of-month month day-of-week, UTC as on Cloudflare) is due in
 * the minute of `at`. Throws, naming the expression, on syntax beyond "*", "*\/N", numbers and comma lists.
 * As in cron: weekday 7 is Sunday like 0, and when both day fields are restricted a day matching either is due.
 */
export function cronMatches(expression: string, at: Date): boolean {
  const fields = expression.trim().split(/\s+/);
  const tests = fields.map((field, i) => fieldTest(field, FIELD_MIN[i] ?? 0));
  if (fields.length !== 5 || tests.some((test) => test === undefined)) {
    throw new Error(
      `the cron trigger "${expression}" in wrangler.toml uses syntax the local Workers hub does not run (five fields of *, */N, numbers or comma lists); simplify it or trigger it by hand`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = tests as ((value: number) => boolean)[];
  const weekday = at.getUTCDay();
  const monthDayDue = dayOfMonth!(at.getUTCDate());
  const weekdayDue = dayOfWeek!(weekday) || (weekday === 0 && dayOfWeek!(7));
  const bothDaysRestricted = !fields[2]!.startsWith("*") && !fields[4]!.startsWith("*");
  const dayDue = bothDaysRestricted ? monthDayDue || weekdayDue : monthDayDue && weekdayDue;
  return minute!(at.getUTCMinutes()) && hour!(at.getUTCHours()) && month!(at.getUTCMonth() + 1) && dayDue;
}

export type LocalCronOptions = {
  crons: string[];
  /** Runs the Worker's scheduled handler for one cron (Miniflare's Fetcher.scheduled). */
  fire: (cron: string, scheduledTime: Date) => Promise<unknown>;
  onError: (cron: string, error: unknown) => void;
};

/** Fires each due cron at the start of every minute, as Cloudflare does; returns the function that stops it. */
export function startLocalCronTriggers(options: LocalCronOptions): () => void {
  for (const cron of options.crons) cronMatches(cron, new Date()); // a bad expression fails the start, not later
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    const now = Date.now();
    timer = setTimeout(tick, 60_000 - (now % 60_000));
    timer.unref?.();
  };
  const tick = () => {
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    for (const cron of options.crons) {
      if (cronMatches(cron, at))
        options.fire(cron, at).catch((error: unknown) => options.onError(cron, error));
    }
    schedule();
  };
  schedule();
  return () => clearTimeout(timer);
}

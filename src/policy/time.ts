/** Durations and dates as policies write them. */

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** `<n>d|h|m|s` → milliseconds; undefined when it is not one (the schema's duration pattern). */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,5})([dhms])$/.exec(text);
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2]] ?? Number.NaN);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time → Date; undefined when it is not one or names no real instant (02-30). */
export function parseDateTime(text: string): Date | undefined {
  if (!DATE_TIME.test(text)) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return undefined;
  // Date accepts 2026-02-30 as March 2; the calendar date written must be the one parsed (in its own zone).
  const [y, mo, da] = text.slice(0, 10).split('-').map(Number);
  const zone = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const offsetMs =
    zone === null ? 0 : (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) * 60_000;
  const local = new Date(d.getTime() + offsetMs);
  if (local.getUTCFullYear() !== y || local.getUTCMonth() + 1 !== mo || local.getUTCDate() !== da)
    return undefined;
  return d;
}

/**
 * When an exception's `expires` ends: a date-time is that instant; a bare date (RFC 3339 full-date) runs
 * to the end of that day in UTC, so `expires: 2026-12-31` still waives on the 31st.
 */
export function expiryInstant(text: string): Date | undefined {
  const m = DATE.exec(text);
  if (m === null) return parseDateTime(text);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = new Date(Date.UTC(y, mo - 1, d));
  if (start.getUTCFullYear() !== y || start.getUTCMonth() !== mo - 1 || start.getUTCDate() !== d)
    return undefined;
  return new Date(start.getTime() + 86_400_000);
}

/** `3d 4h` style age for messages. */
export function formatAge(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts =
    d > 0
      ? [`${d}d`, h > 0 ? `${h}h` : '']
      : h > 0
        ? [`${h}h`, m > 0 ? `${m}m` : '']
        : [`${m}m`, `${s % 60}s`];
  return parts.filter((p) => p !== '').join(' ');
}

// How long ago something happened, as people say it ("3 days ago"), in the browser's language.

const DAY_S = 86400;

export function ago(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  // A time in the future (a commit dated ahead, a clock that is off) is said the same way: "in
  // 1 day", not "in 1,439 minutes".
  const span = Math.abs(seconds);
  if (span < 45) return "just now";
  if (span < 3600) return format.format(-Math.round(seconds / 60), "minute");
  if (span < DAY_S) return format.format(-Math.round(seconds / 3600), "hour");
  if (span < DAY_S * 30) return format.format(-Math.round(seconds / DAY_S), "day");
  if (span < DAY_S * 365) return format.format(-Math.round(seconds / (DAY_S * 30)), "month");
  return format.format(-Math.round(seconds / (DAY_S * 365)), "year");
}

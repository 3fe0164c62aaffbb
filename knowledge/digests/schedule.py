"""Cron schedules for digests: validation with clear messages, and due fire times."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import zoneinfo

from apscheduler.triggers.cron import CronTrigger

from knowledge.errors import BadInput

CRON_HELP = "schedule must be cron: minute hour day month weekday, e.g. '0 9 * * 1'"
# APScheduler 3 numbers weekdays from Monday = 0, while cron (and every user) counts Sunday = 0
# or 7: weekday fields are rewritten to names so "0 9 * * 1" means Monday, as in crontab.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Windows searched backwards for the latest due fire time: small first, so a frequent schedule
# after a long outage does not walk through every missed minute.
_SEARCH_WINDOWS = (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=8),
                   dt.timedelta(days=32), dt.timedelta(days=367), dt.timedelta(days=4 * 367))
_TICK = dt.timedelta(microseconds=1)


def _day_number(text: str, expr: str) -> int:
    key = text.strip().lower()[:3]
    if key in _DAY_NAMES:
        return _DAY_NAMES.index(key)
    if key.isdigit() and 0 <= int(key) <= 7:
        return int(key) % 7
    raise BadInput(f"invalid weekday {text!r} in schedule {expr!r}: use 0-7 (0 and 7 are "
                   "Sunday) or mon..sun")


def _weekdays(field: str, expr: str) -> str:
    """A cron weekday field as APScheduler weekday names (or '*' for every day)."""
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise BadInput(f"invalid step {step_text!r} in schedule {expr!r}")
            step = int(step_text)
        if base in ("*", "?"):
            first, last = 0, 6
        elif "-" in base:
            lo, _, hi = base.partition("-")
            first, last = _day_number(lo, expr), _day_number(hi, expr)
            if last == 0 < first:  # "5-7", "fri-sun": Sunday closes the range
                last = 7
            if last < first:
                raise BadInput(f"invalid weekday range {base!r} in schedule {expr!r}")
        else:
            first = _day_number(base, expr)
            last = 6 if step_text else first
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


# Cron fields other than the weekday, with the values each allows.
_FIELD_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12))
_NUMERIC_PART = re.compile(r"(?:\*|\?|(\d+)(?:-(\d+))?)(?:/(\d+))?")


def _field_problem(name: str, low: int, high: int, text: str) -> str | None:
    """What is wrong with one cron field, in words ("hour 25 is out of range (0-23)"), or None.

    Numbers, ranges, lists and steps are checked here; anything else (month names, APScheduler
    day expressions such as "last") is left to APScheduler, asked about this field alone.
    """
    for part in text.split(","):
        match = _NUMERIC_PART.fullmatch(part)
        if match is None:
            try:
                CronTrigger(**{name: part}, timezone=dt.UTC)
            except ValueError:
                return (f"{name} {part!r} is not understood (use a number {low}-{high}, a range "
                        f"such as {low}-{low + 2}, a list such as {low},{low + 2}, or * for any)")
            continue
        first, last, step = match.groups()
        for value in (first, last):
            if value is not None and not low <= int(value) <= high:
                return f"{name} {int(value)} is out of range ({low}-{high})"
        if first is not None and last is not None and int(last) < int(first):
            return f"{name} range {part} runs backwards (write the smaller number first)"
        if step is not None and int(step) < 1:
            return f"{name} step {part} must be 1 or more"
    return None


def resolve_timezone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA timezone by name (case-insensitive); BadInput with a suggestion otherwise."""
    name = (name or "").strip()
    if not name:
        raise BadInput("the timezone is empty: use an IANA name such as 'UTC' or 'Europe/London'")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    known = _known_timezones()
    if name.lower() in known:
        return zoneinfo.ZoneInfo(known[name.lower()])
    close = difflib.get_close_matches(name.lower(), known.keys(), n=1, cutoff=0.75)
    hint = f"; did you mean {known[close[0]]}?" if close else \
        " (use an IANA name such as 'UTC', 'Europe/London' or 'America/New_York')"
    raise BadInput(f"unknown timezone {name!r}{hint}")


@functools.cache
def _known_timezones() -> dict[str, str]:
    return {n.lower(): n for n in zoneinfo.available_timezones()}


def normalise_schedule(expr: str) -> str:
    """The schedule with single spaces between its five fields (as stored)."""
    return " ".join((expr or "").split())


def cron_trigger(expr: str, timezone: str = "UTC") -> CronTrigger:
    """Validate a five-field crontab expression and build its trigger in the given timezone."""
    tz = resolve_timezone(timezone)
    fields = normalise_schedule(expr).split(" ")
    if len(fields) != 5 or not fields[0]:
        got = 0 if not fields[0] else len(fields)
        raise BadInput(f"{CRON_HELP} (got {got} field{'s' if got != 1 else ''})")
    minute, hour, day, month, weekday = fields
    problems = [problem for (name, low, high), text in zip(_FIELD_RANGES, fields, strict=False)
                if (problem := _field_problem(name, low, high, text))]
    if problems:
        raise BadInput(f"invalid schedule {expr!r}: " + " and ".join(problems))
    days_of_week = _weekdays(weekday, expr)
    if day not in ("*", "?") and weekday not in ("*", "?"):
        # crontab fires when EITHER matches; APScheduler would require both.
        raise BadInput(f"schedule {expr!r} restricts both the day of the month and the weekday; "
                       "restrict only one of them")
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=days_of_week, timezone=tz)
    except ValueError as exc:
        raise BadInput(f"invalid schedule {expr!r}: {exc} ({CRON_HELP})") from exc


def next_fire(trigger: CronTrigger, after: dt.datetime) -> dt.datetime | None:
    """The first fire time strictly after `after`, in UTC (None if the schedule never fires)."""
    fire = trigger.get_next_fire_time(None, (after + _TICK).astimezone(trigger.timezone))
    return fire.astimezone(dt.UTC) if fire is not None else None


def ensure_fires(trigger: CronTrigger, expr: str, now: dt.datetime) -> None:
    """BadInput when a valid schedule never fires (a day no month has, e.g. '0 9 31 2 *')."""
    if next_fire(trigger, now) is None:
        raise BadInput(f"schedule {expr!r} never fires: no date has that day in that month "
                       "(31 February, for instance). Choose a day the month has.")


def same_wall_time(a: dt.datetime, b: dt.datetime, timezone: str) -> bool:
    """Whether two instants read the same on the zone's clocks (to the minute): the two
    occurrences of a local time in the hour the clocks go back."""
    zone = zoneinfo.ZoneInfo(timezone)
    return a.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) == \
        b.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


def latest_fire(trigger: CronTrigger, after: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The last fire time in (after, now], in UTC: the end of the period due now, if any."""
    if now <= after:
        return None
    for window in (*_SEARCH_WINDOWS, None):
        low = after if window is None else max(after, now - window)
        latest = None
        fire = next_fire(trigger, low)
        while fire is not None and fire <= now:
            latest = fire
            fire = next_fire(trigger, fire)
        if latest is not None or low == after:
            return latest
    return None

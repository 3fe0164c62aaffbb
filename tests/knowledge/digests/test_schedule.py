"""Cron schedules: validation messages, crontab weekday numbering, due fire times."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.digests.schedule import CRON_HELP, cron_trigger, latest_fire, next_fire
from knowledge.errors import BadInput
from knowledge.service import KnowledgeService

UTC = dt.UTC
TUESDAY = dt.datetime(2030, 1, 1, tzinfo=UTC)  # 2030-01-01 is a Tuesday


@pytest.mark.parametrize("expr", ["0 9 * *", "0 9 * * * *", "", "daily"])
def test_wrong_field_count_explains_the_cron_format(expr: str) -> None:
    """A schedule without exactly five fields is refused with the format and an example."""
    with pytest.raises(BadInput) as err:
        cron_trigger(expr)
    assert CRON_HELP in str(err.value)
    assert "'0 9 * * 1'" in str(err.value)


@pytest.mark.parametrize(("expr", "word"), [("0 25 * * *", "25"), ("61 9 * * *", "61"),
                                            ("0 9 * * 8", "8"), ("0 9 32 * *", "32")])
def test_out_of_range_values_are_named(expr: str, word: str) -> None:
    """An impossible value is refused and the message names it."""
    with pytest.raises(BadInput, match=word):
        cron_trigger(expr)


def test_day_of_month_and_weekday_together_are_refused() -> None:
    """Cron ORs day-of-month and weekday while APScheduler ANDs them: refuse the ambiguity."""
    with pytest.raises(BadInput, match="restrict only one"):
        cron_trigger("0 9 1 * 1")


@pytest.mark.parametrize(("field", "weekday"), [("1", 0), ("0", 6), ("7", 6), ("mon", 0),
                                                ("SUN", 6), ("5", 4)])
def test_weekday_numbers_follow_crontab(field: str, weekday: int) -> None:
    """'0 9 * * 1' fires on Monday and 0 or 7 on Sunday, as in crontab (not APScheduler 3)."""
    fire = next_fire(cron_trigger(f"0 9 * * {field}"), TUESDAY)
    assert fire is not None
    assert fire.weekday() == weekday
    assert (fire.hour, fire.minute) == (9, 0)


def test_weekday_ranges_and_steps_follow_crontab() -> None:
    """Ranges ending on Sunday (5-7, fri-sun) and steps from Sunday (*/2) mean what cron means."""
    def days(field: str) -> set[int]:
        trigger = cron_trigger(f"0 9 * * {field}")
        fires, t = [], TUESDAY
        for _ in range(7):
            t = next_fire(trigger, t)  # type: ignore[assignment]
            fires.append(t.weekday())
        return set(fires)

    assert days("1-5") == {0, 1, 2, 3, 4}
    assert days("5-7") == days("fri-sun") == {4, 5, 6}
    assert days("*/2") == {6, 1, 3, 5}  # Sun, Tue, Thu, Sat


def test_schedule_runs_in_its_timezone() -> None:
    """09:00 in Tokyo is 00:00 UTC."""
    fire = next_fire(cron_trigger("0 9 * * *", "Asia/Tokyo"), TUESDAY - dt.timedelta(hours=1))
    assert fire == dt.datetime(2030, 1, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("name", "hint"), [("Europe/Moskow", "Europe/Moscow"),
                                            ("Mars/Olympus", "IANA"), ("", "empty")])
def test_unknown_timezone_is_refused_helpfully(name: str, hint: str) -> None:
    """A misspelt timezone gets a suggestion; nonsense gets an example of a valid name."""
    with pytest.raises(BadInput, match=hint):
        cron_trigger("0 9 * * *", name)


def test_timezone_names_are_case_insensitive() -> None:
    """'asia/tokyo' is accepted as Asia/Tokyo."""
    assert str(cron_trigger("0 9 * * *", "asia/tokyo").timezone) == "Asia/Tokyo"


def test_latest_fire_coalesces_missed_fire_times() -> None:
    """Down from Tuesday 08:00 to Thursday 10:00: the due period ends at Thursday 09:00."""
    trigger = cron_trigger("0 9 * * *")
    after = dt.datetime(2030, 1, 1, 8, tzinfo=UTC)
    assert latest_fire(trigger, after, dt.datetime(2030, 1, 3, 10, tzinfo=UTC)) == \
        dt.datetime(2030, 1, 3, 9, tzinfo=UTC)


def test_latest_fire_is_none_before_the_first_fire_time() -> None:
    """Nothing is due between the last covered instant and the next fire time."""
    trigger = cron_trigger("0 9 * * *")
    after = dt.datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert latest_fire(trigger, after, dt.datetime(2030, 1, 2, 8, 59, tzinfo=UTC)) is None
    assert latest_fire(trigger, after, after) is None


def test_latest_fire_counts_the_fire_instant_itself() -> None:
    """At exactly 09:00 the 09:00 period is due (the period end is inclusive)."""
    trigger = cron_trigger("0 9 * * *")
    nine = dt.datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert latest_fire(trigger, nine - dt.timedelta(hours=1), nine) == nine


def test_latest_fire_after_a_long_outage_of_a_frequent_schedule() -> None:
    """Every minute, down for five years: the answer is the last minute, found quickly."""
    trigger = cron_trigger("* * * * *")
    now = dt.datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert latest_fire(trigger, now - dt.timedelta(days=5 * 365), now) == \
        dt.datetime(2030, 1, 1, 0, 0, tzinfo=UTC)


def test_latest_fire_of_a_rare_schedule_far_back() -> None:
    """A yearly schedule last fired months ago is still found."""
    trigger = cron_trigger("0 0 1 1 *")
    now = dt.datetime(2030, 6, 1, tzinfo=UTC)
    assert latest_fire(trigger, dt.datetime(2025, 6, 1, tzinfo=UTC), now) == \
        dt.datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_daily_time_repeated_when_clocks_go_back_posts_once(
        hashing_service: KnowledgeService) -> None:
    """Daily at 02:30 Europe/Berlin: on 27 October 2030 clocks go back at 03:00, so 02:30 comes
    twice (00:30 and 01:30 UTC). One digest that day, at the first; the next day's as usual (an
    outside admin saw two digests that day)."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, "30 2 * * *", "Europe/Berlin", post_when_empty=True,
                            now=dt.datetime(2030, 10, 26, 12, 0, tzinfo=dt.UTC))
    posted: list[dt.datetime] = []

    async def post(channel_id: int, digest: object, run_id: int) -> list[int]:
        return [run_id]

    for minute in range(0, 24 * 60 * 2, 30):  # every half hour for two days
        now = dt.datetime(2030, 10, 26, 12, 0, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        for outcome in await digests.run_due(post, now=now):  # type: ignore[arg-type]
            assert outcome.subscription.id == sub.id
            posted.append(now)
    assert [p.strftime("%Y-%m-%d %H:%M") for p in posted] == [
        "2030-10-27 00:30",  # 02:30 CEST, the first 02:30
        "2030-10-28 01:30",  # 02:30 CET, the next day
    ]

"""The curated meeting registry and loose lookup."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from knowledge.meetings import Meeting, find_meeting, load_registry

EXPECTED = {
    # id: (start, end, kind, ordinal)
    "2014-02-sochi-olympics-opening": ("2014-02-07", "2014-02-07", "visit", None),
    "2015-05-tokyo-naryshkin-visit": ("2015-05-01", "2015-05-31", "visit", None),
    "2016-05-sochi-abe-putin": ("2016-05-06", "2016-05-06", "summit", None),
    "2016-09-vladivostok-eef": ("2016-09-02", "2016-09-02", "summit", None),
    "2016-11-lima-apec": ("2016-11-19", "2016-11-19", "summit", None),
    "2016-12-moscow-kishida-visit": ("2016-12-02", "2016-12-02", "visit", None),
    "2016-12-japan-putin-visit": ("2016-12-15", "2016-12-16", "summit", None),
    "2017-03-tokyo-2plus2": ("2017-03-20", "2017-03-20", "2+2", None),
    "2017-04-moscow-abe-visit": ("2017-04-27", "2017-04-27", "summit", 17),
    "2019-01-moscow-abe-putin-summit": ("2019-01-22", "2019-01-22", "summit", 25),
    "2019-06-osaka-g20": ("2019-06-28", "2019-06-29", "multilateral", None),
}


def test_registry_holds_every_row_of_the_seed_table(registry: tuple[Meeting, ...]) -> None:
    """All 11 meetings of the seeds table are there, with their dates, kinds and ordinals."""
    got = {m.id: (m.start.isoformat(), m.end.isoformat(), m.kind, m.ordinal) for m in registry}
    assert got == EXPECTED


def test_registry_is_ordered_and_complete(registry: tuple[Meeting, ...]) -> None:
    """Meetings come oldest first and every one has a name, place, participants and description."""
    assert [m.start for m in registry] == sorted(m.start for m in registry)
    for m in registry:
        assert m.name and m.place and m.country and m.participants and m.description


def test_month_precision_and_multi_day_dates(by_id: dict[str, Meeting]) -> None:
    """Naryshkin's visit is known to the month; Putin's visit and the G20 span two days."""
    assert by_id["2015-05-tokyo-naryshkin-visit"].date_precision == "month"
    assert by_id["2016-12-japan-putin-visit"].date_end == "2016-12-16"
    assert by_id["2019-06-osaka-g20"].date_end == "2019-06-29"
    assert by_id["2017-03-tokyo-2plus2"].date_end is None


def test_aliases_cover_the_names_people_use(by_id: dict[str, Meeting]) -> None:
    """Nagato, Lima, APEC Lima, Eastern Economic Forum, 2+2 and two-plus-two are aliases."""
    assert "Nagato" in by_id["2016-12-japan-putin-visit"].aliases
    assert {"Lima", "APEC Lima"} <= set(by_id["2016-11-lima-apec"].aliases)
    assert "Eastern Economic Forum" in by_id["2016-09-vladivostok-eef"].aliases
    assert {"2+2", "two-plus-two"} <= set(by_id["2017-03-tokyo-2plus2"].aliases)


def test_to_json_is_plain_data(by_id: dict[str, Meeting]) -> None:
    """to_json gives lists and strings only, so the CLI can print it."""
    data = by_id["2017-04-moscow-abe-visit"].to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["ordinal"] == 17 and data["participants"] == ["Shinzo Abe", "Vladimir Putin"]


def test_to_model_gives_the_boundary_record(by_id: dict[str, Meeting]) -> None:
    """to_model carries the registry fields into knowledge.models.Meeting, plus storage counts."""
    model = by_id["2016-12-japan-putin-visit"].to_model(article_ids=(1, 4), passages=3)
    assert model.date is not None and model.date.iso == "2016-12-15"
    assert model.date_end == dt.date(2016, 12, 16)
    assert (model.place, model.kind, model.article_ids, model.passages) == (
        "Nagato and Tokyo", "summit", (1, 4), 3)
    assert model.to_json()["date_precision"] == "day"


def test_invalid_kind_is_rejected(tmp_path: Path) -> None:
    """A registry entry with an unknown kind fails loudly at load time."""
    bad = {"meetings": [{"id": "x", "name": "x", "date": "2017-04-27", "date_precision": "day",
                         "place": "Moscow", "country": "Russia", "kind": "banquet",
                         "participants": [], "description": ""}]}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind"):
        load_registry(path)


def test_precision_must_match_the_date(tmp_path: Path) -> None:
    """A month-only date declared as day precision is rejected."""
    bad = {"meetings": [{"id": "x", "name": "x", "date": "2017-04", "date_precision": "day",
                         "place": "Moscow", "country": "Russia", "kind": "summit",
                         "participants": [], "description": ""}]}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValueError, match="is not day"):
        load_registry(path)


@pytest.mark.parametrize(("query", "expected"), [
    ("Lima 2016", "2016-11-lima-apec"),
    ("2017-04", "2017-04-moscow-abe-visit"),
    ("moscow 2019", "2019-01-moscow-abe-putin-summit"),
    ("17th", "2017-04-moscow-abe-visit"),
    ("25th summit", "2019-01-moscow-abe-putin-summit"),
    ("nagato", "2016-12-japan-putin-visit"),
    ("2+2", "2017-03-tokyo-2plus2"),
    ("two-plus-two", "2017-03-tokyo-2plus2"),
    ("2016-11-lima-apec", "2016-11-lima-apec"),
    ("APEC", "2016-11-lima-apec"),
    ("Eastern Economic Forum", "2016-09-vladivostok-eef"),
    ("g20", "2019-06-osaka-g20"),
    ("sochi 2014", "2014-02-sochi-olympics-opening"),
    ("April 2017 Moscow", "2017-04-moscow-abe-visit"),
    ("putin visit japan", "2016-12-japan-putin-visit"),
    ("kishida", "2016-12-moscow-kishida-visit"),
    ("vlad", "2016-09-vladivostok-eef"),
    ("2016-12-15", "2016-12-japan-putin-visit"),
])
def test_find_meeting_loose_queries(registry: tuple[Meeting, ...], query: str,
                                    expected: str) -> None:
    """Loose queries (place + year, ISO month, ordinal, alias, slug, prefix) rank the meant meeting first."""
    found = find_meeting(query, registry)
    assert found and found[0].id == expected


def test_find_meeting_dates_and_ordinals_are_hard_filters(registry: tuple[Meeting, ...]) -> None:
    """A year, month or ordinal that no meeting has gives nothing rather than a wrong meeting."""
    assert [m.id for m in find_meeting("moscow 2019", registry)] == [
        "2019-01-moscow-abe-putin-summit"]
    assert find_meeting("2018", registry) == []
    assert find_meeting("30th", registry) == []
    assert find_meeting("zzzz", registry) == []


def test_complete_keeps_only_meetings_every_word_fits(registry: tuple[Meeting, ...]) -> None:
    """Autocomplete offers partial fits while typing; `complete` (naming one meeting) does not,
    and a query without words names none."""
    assert find_meeting("osaka 2016", registry)  # the 2016 meetings, for the year
    assert find_meeting("osaka 2016", registry, complete=True) == []
    assert find_meeting("?", registry, limit=2)  # the newest, as for an empty query
    assert find_meeting("?", registry, complete=True) == []
    assert [m.id for m in find_meeting("moscow 2019", registry, complete=True)] == [
        "2019-01-moscow-abe-putin-summit"]
    assert find_meeting("2016-02-30", registry) == []  # no such day: no meeting held on it


def test_find_meeting_ambiguous_query_lists_candidates(registry: tuple[Meeting, ...]) -> None:
    """"december 2016" offers both December 2016 meetings; "sochi" both Sochi meetings."""
    assert {m.id for m in find_meeting("december 2016", registry)} == {
        "2016-12-japan-putin-visit", "2016-12-moscow-kishida-visit"}
    assert {m.id for m in find_meeting("sochi", registry)} == {
        "2016-05-sochi-abe-putin", "2014-02-sochi-olympics-opening"}


def test_empty_query_lists_newest_first_for_autocomplete(registry: tuple[Meeting, ...]) -> None:
    """With nothing typed yet, autocomplete offers the newest meetings, up to the limit."""
    found = find_meeting("", registry, limit=3)
    assert [m.id for m in found] == ["2019-06-osaka-g20", "2019-01-moscow-abe-putin-summit",
                                     "2017-04-moscow-abe-visit"]


def test_meeting_dates_are_real_dates(registry: tuple[Meeting, ...]) -> None:
    """start/end are dates covering the partial ISO date."""
    naryshkin = next(m for m in registry if m.id == "2015-05-tokyo-naryshkin-visit")
    assert (naryshkin.start, naryshkin.end) == (dt.date(2015, 5, 1), dt.date(2015, 5, 31))

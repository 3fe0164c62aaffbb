"""What a digest contains: exactly the new announced articles, grouped, with short extracts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from knowledge.cli import main as cli_main
from knowledge.digests.compose import OTHER_HEADING, lead_extract
from knowledge.errors import BadInput
from knowledge.ingest import Document
from knowledge.models import Contributor, PartialDate
from knowledge.service import KnowledgeService
from knowledge.store.tables import MeetingRow, PassageMeetingRow, PassageRow, utcnow
from tests.knowledge.digests.helpers import DAILY_9, add_article, at


def items(digest) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(section heading, article title) pairs in display order."""
    return [(s.heading, i.title) for s in digest.sections for i in s.items]


async def test_preview_lists_exactly_the_new_announced_articles(
        hashing_service: KnowledgeService) -> None:
    """Founding and unannounced articles, and those from before the period, stay out."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(service, "Before the subscription", at(1, 7))
    add_article(service, "Quiet backfill", at(1, 9), announce=False)
    add_article(service, "New from Valdai", at(1, 10))
    add_article(service, "New without publisher", at(1, 11), publisher=None)
    add_article(service, "New from Carnegie", at(1, 12), publisher="Carnegie Endowment")
    add_article(service, "Too late for now", at(2, 10))
    digest = service.digests.preview(1, now=at(1, 13))
    assert (digest.period_start, digest.period_end) == (at(1, 8), at(1, 13))
    assert items(digest) == [("Carnegie Endowment", "New from Carnegie"),
                             ("Valdai Club", "New from Valdai"),
                             (OTHER_HEADING, "New without publisher")]
    assert digest.run_id is None


async def test_preview_does_not_claim(hashing_service: KnowledgeService) -> None:
    """Previewing twice shows the same articles: nothing is marked as announced."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(service, "Only one", at(1, 10))
    first = service.digests.preview(1, now=at(2, 10))
    second = service.digests.preview(1, now=at(2, 10))
    assert items(first) == items(second) == [("Valdai Club", "Only one")]


async def test_preview_since_overrides_the_period_start(hashing_service: KnowledgeService
                                                        ) -> None:
    """--since shows everything announced after that instant, subscription or not."""
    service = hashing_service
    add_article(service, "Older", at(1, 10))
    add_article(service, "Newer", at(3, 10))
    digest = service.digests.preview(since=at(2, 0), now=at(4, 0), guild_id=None)
    assert [t for _, t in items(digest)] == ["Newer"]


async def test_item_carries_title_publisher_experts_date_extract_and_link(
        hashing_service: KnowledgeService) -> None:
    """Each item has what a reader needs to decide whether to open the article."""
    service = hashing_service
    result = service.add_document(Document(
        text="Japan and Russia: Talks Resume\n\nThe two foreign ministers met in Moscow on "
             "Monday to restart the peace treaty talks. They agreed to meet again in spring. "
             "Officials on both sides played down expectations.\n\n" + "More detail. " * 20,
        title="Japan and Russia: Talks Resume", publisher="Tokyo Foundation",
        published=PartialDate("2030-01-06", "day"), url="https://example.org/talks",
        contributors=(Contributor("Dmitry Streltsov", "author"),), announce=True))
    assert result.status == "added"
    digest = service.digests.preview(since=utcnow() - dt.timedelta(minutes=5), guild_id=None)
    (item,) = [i for s in digest.sections for i in s.items]
    assert item.title == "Japan and Russia: Talks Resume"
    assert item.publisher == "Tokyo Foundation"
    assert item.experts == ("Dmitry Streltsov",)
    assert item.published == PartialDate("2030-01-06", "day")
    assert item.url == "https://example.org/talks"
    assert item.extract == ("The two foreign ministers met in Moscow on Monday to restart the "
                            "peace treaty talks. They agreed to meet again in spring.")


async def test_articles_are_grouped_by_the_meeting_they_discuss(
        hashing_service: KnowledgeService) -> None:
    """An article linked to a meeting (passage_meetings) appears under that meeting first."""
    service = hashing_service
    linked = add_article(service, "Summit expectations", at(1, 10))
    add_article(service, "Unrelated commentary", at(1, 11))
    with service.library.write() as session:
        session.add(MeetingRow(id="test-2030-01-vladivostok", name="Test summit in Vladivostok",
                               date_iso="2030-01", date_precision="month", kind="summit",
                               participants=[], aliases=[], status="confirmed"))
        session.flush()
        passage = session.scalar(select(PassageRow.id).where(PassageRow.article_id == linked)
                                 .limit(1))
        session.add(PassageMeetingRow(passage_id=passage, meeting_id="test-2030-01-vladivostok",
                                   evidence="the summit", confidence=5.0))
    digest = service.digests.preview(since=at(1, 9), now=at(1, 12), guild_id=None)
    assert items(digest) == [("Test summit in Vladivostok (Jan 2030)", "Summit expectations"),
                             ("Valdai Club", "Unrelated commentary")]



def test_a_preview_starting_in_the_future_is_worded_for_any_front_end(
        hashing_service: KnowledgeService) -> None:
    """A start not in the past is refused naming the date, not an adapter's flag (--since)."""
    with pytest.raises(BadInput) as refused:
        hashing_service.digests.preview(None, at(1, 10), now=at(1, 9))
    assert str(refused.value) == "the start date (2030-01-07 10:00 UTC) is not in the past"

def test_extract_skips_title_and_short_header_lines() -> None:
    """The extract starts at the body, not at the repeated title, publisher or date line."""
    text = ("The Tokyo Foundation\n\nJapan's Difficult Choices\n\nJune 11, 2015\n\n"
            "Despite the souring of relations, there are growing signs that Putin could visit "
            "Japan later this year. Japan has an interest in economic cooperation.")
    assert lead_extract(text, "Japan's Difficult Choices", "The Tokyo Foundation") == (
        "Despite the souring of relations, there are growing signs that Putin could visit "
        "Japan later this year. Japan has an interest in economic cooperation.")


def test_extract_is_at_most_300_characters() -> None:
    """A long first sentence is cut at a word boundary with an ellipsis."""
    text = "The summit " + "was long and " * 60 + "ended."
    extract = lead_extract(text)
    assert len(extract) <= 300
    assert extract.endswith("…")
    assert not extract[:-1].endswith(" ")


def test_extract_keeps_one_sentence_when_two_would_be_too_long() -> None:
    """A second sentence is added only when the first is short and both fit."""
    first = "A" + " fairly long opening clause" * 6 + "."
    text = f"{first} {'Second sentence is also quite long' * 4}."
    assert lead_extract(text) == first


@pytest.mark.parametrize("as_json", [True, False])
def test_cli_digest_preview(hashing_service: KnowledgeService, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str], as_json: bool) -> None:
    """`python -m knowledge digest preview --since DATE` prints the new articles."""
    settings = hashing_service.settings
    yesterday = utcnow() - dt.timedelta(days=1)
    add_article(hashing_service, "Shown in the CLI", yesterday)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    since = (yesterday - dt.timedelta(days=1)).date().isoformat()
    args = ["digest", "preview", "--since", since] + (["--json"] if as_json else [])
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    if as_json:
        data = json.loads(out)
        assert [i["title"] for s in data["sections"] for i in s["items"]] == ["Shown in the CLI"]
        assert data["period_start"] == f"{since}T00:00:00+00:00"
    else:
        assert "Shown in the CLI" in out and "== Valdai Club ==" in out


def test_cli_digest_list(hashing_service: KnowledgeService, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """`digest list --json` shows each subscription's schedule and where it stands."""
    hashing_service.digests.subscribe(1, 10, DAILY_9, "UTC", now=at(1, 8))
    settings = hashing_service.settings
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    assert cli_main(["digest", "list", "--json"]) == 0
    (sub,) = json.loads(capsys.readouterr().out)
    assert (sub["guild_id"], sub["channel_id"], sub["schedule"]) == (1, 10, DAILY_9)
    assert sub["covered_until"] == "2030-01-07T08:00:00+00:00"


def test_cli_digest_list_shows_a_failing_digest(
        hashing_service: KnowledgeService, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`digest list` (text and --json) says a subscription's last digest failed, why, and when
    it is retried, not only the next scheduled time."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, "UTC", now=at(1, 8))
    claim = digests.claim(sub.id, at(1, 9), now=at(1, 9))
    assert claim is not None
    assert digests.mark_failed(claim.run_id, "I am missing Send Messages in <#10>.")
    settings = hashing_service.settings
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    retry = (at(1, 9) + digests.retry_after)
    assert cli_main(["digest", "list"]) == 0
    out = capsys.readouterr().out
    assert "FAILING" in out and "I am missing Send Messages in <#10>." in out, out
    assert f"retried at {retry:%Y-%m-%d %H:%M} UTC" in out, out
    assert cli_main(["digest", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["last_error"] == "I am missing Send Messages in <#10>."
    assert listed["retry_at"] == retry.isoformat()

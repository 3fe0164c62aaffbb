"""Reading evidence ranks, never filters: it lifts the passages it fits, a wrong reading only
moves the right passage down, explicit filters still filter, and each hit says why."""

from __future__ import annotations

import datetime as dt

import numpy as np

from knowledge.embedding import HashingEmbedder
from knowledge.index.hybrid import HybridIndex
from knowledge.index.types import Boost, Evidence, Filters, IndexedPassage
from knowledge.models import ArticleSummary, PartialDate
from knowledge.text.split import split_sentences
from knowledge.text.tokens import tokenize

EMB = HashingEmbedder(128)
TEXTS = {
    1: ["The harbour talks stalled over fishing quotas and the customs union.",
        "Weather on the coast was mild that season."],
    2: ["The harbour talks stalled over fishing quotas and the customs union, observers said.",
        "The trade fair drew few visitors."],
    3: ["A cookery column about bread, butter and jam.", "Gardening tips for the spring."],
}
PUBLISHED = {1: "2021-03", 2: "2021-11", 3: "2021-06"}


def _index() -> HybridIndex:
    index = HybridIndex(EMB.dim)
    pid = 0
    for aid, texts in TEXTS.items():
        passages = []
        for text, vec in zip(texts, EMB.embed(texts), strict=True):
            pid += 1
            spans = tuple((s.start, s.end) for s in split_sentences(text))
            passages.append(IndexedPassage(pid, aid, text, vec, spans,
                                           EMB.embed([text[a:b] for a, b in spans])))
        index.add(ArticleSummary(aid, f"Article {aid}", "Pub", PartialDate.parse(PUBLISHED[aid]),
                                 None, "en", (), dt.datetime.now(dt.UTC)), passages)
    return index


def _ranked(index: HybridIndex, evidence: Evidence | None = None,
            filters: Filters | None = None) -> list[tuple[int, tuple[str, ...]]]:
    query = "Why did the harbour talks stall over quotas?"
    hits = index.search(tokenize(query), EMB.embed([query])[0], top=6,
                        filters=filters, evidence=evidence, feedback=True)
    return [(h.passage_id, h.why) for h in hits]


def test_evidence_lifts_the_passage_it_fits_and_says_so() -> None:
    """Two near-identical passages: the one by the expert read from the question comes first,
    and its `why` names the reading."""
    index = _index()
    plain = [pid for pid, _ in _ranked(index)]
    assert set(plain[:2]) == {1, 3}
    for favoured in (1, 3):
        evidence = Evidence((("person", Boost("by Jane Roe", 1.0,
                                              passage_ids=frozenset({favoured}))),))
        ranked = _ranked(index, evidence)
        assert ranked[0][0] == favoured
        assert "by Jane Roe" in ranked[0][1]
        assert all("by Jane Roe" not in why for _, why in ranked[1:])


def test_a_date_window_fits_articles_published_in_it() -> None:
    """A window boost fits the passages of articles whose publication overlaps it."""
    evidence = Evidence((("time", Boost("November 2021", 1.0,
                                        window=(dt.date(2021, 11, 1), dt.date(2021, 11, 30)))),))
    ranked = _ranked(_index(), evidence)
    assert ranked[0] == (3, ranked[0][1]) and "November 2021" in ranked[0][1]
    assert [pid for pid, why in ranked if "November 2021" in why] == [3, 4]


def test_a_wrong_reading_never_hides_the_right_passage() -> None:
    """Evidence for an unrelated passage moves it up, but both matching passages stay in the
    results, just below it at worst."""
    evidence = Evidence((("meeting", Boost("on the fair", 1.0, passage_ids=frozenset({5}))),))
    ranked = [pid for pid, _ in _ranked(_index(), evidence)]
    assert {1, 3} <= set(ranked[:3])


def test_explicit_filters_still_filter() -> None:
    """A boost cannot bring back a passage the user's filters exclude."""
    evidence = Evidence((("person", Boost("by Jane Roe", 1.0, passage_ids=frozenset({1}),
                                          article_ids=frozenset({1}))),))
    ranked = [pid for pid, _ in _ranked(_index(), evidence, Filters(article_ids=frozenset({2, 3})))]
    assert ranked and 1 not in ranked and 2 not in ranked


def test_feedback_does_not_change_the_reported_lexical_score() -> None:
    """bm25_score stays the question's own words' score (features such as /compare use it)."""
    index = _index()
    query = "Why did the harbour talks stall over quotas?"
    args = (tokenize(query), EMB.embed([query])[0])
    plain = {h.passage_id: h.bm25 for h in index.search(*args, top=6)}
    expanded = {h.passage_id: h.bm25 for h in index.search(*args, top=6, feedback=True)}
    assert all(expanded[pid] == plain[pid] for pid in plain.keys() & expanded.keys())


def test_scores_at_equals_the_full_scores() -> None:
    """Scoring a few documents gives what the whole-index scoring gives them, for cached and
    uncached terms alike."""
    index = _index()
    bm25 = index._bm25
    positions = np.asarray([0, 2, 5], dtype=np.int64)
    terms = tokenize("harbour quotas bread union")
    expected = bm25.scores(terms)[positions]  # caches the terms' vectors
    fresh = HybridIndex(EMB.dim)
    assert np.allclose(bm25.scores_at(terms, positions), expected)
    assert fresh._bm25.scores_at(terms, positions).tolist() == [0.0, 0.0, 0.0]
    bm25._clear_cache()
    assert np.allclose(bm25.scores_at(terms, positions), expected)


def test_meeting_evidence_reaches_the_paragraph_the_linker_did_not_tie() -> None:
    """A meeting read from the question lifts its whole article: the paragraph that answers
    comes first even when the linker tied another paragraph of that article to the meeting."""
    from pathlib import Path

    from knowledge.meetings.vocabulary import load_vocabulary
    from knowledge.understand import Interpretation, MeetingReading, build_question_vocabulary
    from knowledge.understand.evidence import LinkTables, evidence_for

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "scope"
    vocabulary = build_question_vocabulary(load_vocabulary(
        fixture / "scope.json", fixture / "places.json", fixture / "subjects.json"), [], [])
    reading = Interpretation(meetings=(MeetingReading("m", "the harbour meeting",
                                                      dt.date(2021, 2, 1), dt.date(2021, 2, 2)),))
    # Passage 4 ("The trade fair drew few visitors.") is the one tied to the meeting; its
    # article's other paragraph (3) answers, and ranked below its twin (1) without the reading.
    links = LinkTables({}, {}, {"m": frozenset({4})}, {"m": frozenset({2})})
    assert [pid for pid, _ in _ranked(_index())][:2] == [1, 3]
    ranked = _ranked(_index(), evidence_for(reading, vocabulary, links))
    assert ranked[0][0] == 3 and "on the harbour meeting" in ranked[0][1]
    assert [pid for pid, _ in ranked].index(4) > [pid for pid, _ in ranked].index(1)
    assert 1 in [pid for pid, _ in ranked]  # the other article's twin is still shown


def test_feedback_only_when_the_best_dense_passages_agree() -> None:
    """Feedback words come from the best dense passages only when the first two are of one
    article; two articles' passages disagree about the topic and give none."""
    index = _index()
    index.search(tokenize("harbour"), EMB.embed(["harbour"])[0], top=1)  # positions ready
    asked = tokenize("Why did the talks stall?")
    same = index._feedback_terms(asked, np.asarray([0, 1], dtype=np.int64))
    assert same and not set(same) & set(asked)
    assert index._feedback_terms(asked, np.asarray([0, 2], dtype=np.int64)) == []


def test_what_was_published_in_the_period_beats_a_preview_of_its_meeting() -> None:
    """"What did experts say in November 2021?": the article published then comes before one
    published earlier that discusses November's meeting (the preview had 0.8 against 0.6)."""
    from pathlib import Path

    from knowledge.meetings.vocabulary import load_vocabulary
    from knowledge.understand import Interpretation, build_question_vocabulary
    from knowledge.understand.evidence import LinkTables, MeetingEntry, evidence_for
    from knowledge.understand.times import Period

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "scope"
    november = MeetingEntry(id="m", name="the harbour meeting", start=dt.date(2021, 11, 20),
                            end=dt.date(2021, 11, 20), place="", kind="summit", ordinal=None,
                            participants=(), aliases=(), description="")
    vocabulary = build_question_vocabulary(load_vocabulary(
        fixture / "scope.json", fixture / "places.json", fixture / "subjects.json"), [],
        [november])
    reading = Interpretation(windows=(Period(dt.date(2021, 11, 1), dt.date(2021, 11, 30),
                                             "November 2021"),))
    # Passage 1 (article 1, March 2021) discusses the November meeting; passage 2 (article 2)
    # says the same and was published in November; the text alone puts 1 first (its position).
    index = HybridIndex(EMB.dim)
    text = "The harbour talks stalled over fishing quotas and the customs union."
    spans = tuple((s.start, s.end) for s in split_sentences(text))
    for aid, published in ((1, "2021-03"), (2, "2021-11")):
        index.add(ArticleSummary(aid, f"Article {aid}", "Pub", PartialDate.parse(published),
                                 None, "en", (), dt.datetime.now(dt.UTC)),
                  [IndexedPassage(aid, aid, text, EMB.embed([text])[0], spans,
                                  EMB.embed([text]))])
    links = LinkTables({}, {}, {"m": frozenset({1})}, {"m": frozenset({1})})
    assert [pid for pid, _ in _ranked(index)] == [1, 2]
    ranked = _ranked(index, evidence_for(reading, vocabulary, links))
    assert [pid for pid, _ in ranked] == [2, 1]
    assert all("November 2021" in why for _, why in ranked)

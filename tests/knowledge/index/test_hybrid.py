"""BM25, dense scoring, fusion, diversity and filters of the in-memory index."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.index.bm25 import BM25Index
from knowledge.index.hybrid import HybridIndex
from knowledge.index.types import Filters, IndexedPassage
from knowledge.models import ArticleSummary, Contributor, PartialDate
from knowledge.text.split import split_sentences
from knowledge.text.tokens import tokenize

EMB = HashingEmbedder(128)


def _article(aid: int, published: str | None = None, publisher: str = "Pub A") -> ArticleSummary:
    date = PartialDate.parse(published) if published else None
    return ArticleSummary(aid, f"Article {aid}", publisher, date, None, "en",
                          (Contributor("Jane Roe", "author"),), dt.datetime.now(dt.UTC))


def _index(docs: dict[int, list[str]], meta: dict[int, dict] | None = None) -> HybridIndex:
    meta = meta or {}
    index = HybridIndex(EMB.dim)
    pid = 0
    for aid, texts in docs.items():
        vectors = EMB.embed(texts)
        passages = []
        for text, vec in zip(texts, vectors, strict=True):
            pid += 1
            spans = tuple((sp.start, sp.end) for sp in split_sentences(text))
            sentence_vectors = EMB.embed([text[a:b] for a, b in spans])
            passages.append(IndexedPassage(pid, aid, text, vec, spans, sentence_vectors))
        index.add(_article(aid, **meta.get(aid, {})), passages)
    return index


def _search(index: HybridIndex, query: str, top: int = 5, **filters: object) -> list[int]:
    hits = index.search(tokenize(query), EMB.embed([query])[0], top=top,
                        filters=Filters(**filters))  # type: ignore[arg-type]
    return [h.passage_id for h in hits]


def test_bm25_prefers_rarer_terms_and_shorter_documents() -> None:
    """A rare matching term outweighs a common one; length normalisation applies."""
    bm25 = BM25Index()
    bm25.add(tokenize("islands islands treaty"))
    bm25.add(tokenize("treaty"))
    bm25.add(tokenize("treaty economy"))
    scores = bm25.scores(tokenize("islands treaty"))
    assert scores[0] > scores[1] > 0
    assert scores[1] > scores[2]
    assert bm25.scores(tokenize("nothing matches")).sum() == 0


def test_bm25_grows_incrementally() -> None:
    """Adding a document later is the same as indexing it first."""
    a, b = BM25Index(), BM25Index()
    docs = [tokenize(t) for t in ("sanctions on energy", "islands and treaty", "energy islands")]
    for d in docs:
        a.add(d)
    b.add(docs[0])
    b.scores(tokenize("energy"))  # freeze postings, then grow
    b.add(docs[1])
    b.add(docs[2])
    np.testing.assert_allclose(a.scores(tokenize("energy islands")),
                               b.scores(tokenize("energy islands")), rtol=1e-6)


def test_fusion_ranks_a_passage_found_by_both_rankers_first() -> None:
    """Reciprocal rank fusion puts the passage both rankers like on top."""
    index = _index({1: ["the kuril islands dispute and the peace treaty",
                        "economic cooperation in energy"],
                    2: ["football results from the weekend"]})
    assert _search(index, "islands dispute treaty")[0] == 1


def test_results_are_diversified_across_articles() -> None:
    """A second article's passage comes before the third passage of the first article."""
    index = _index({1: ["islands treaty talks one", "islands treaty talks two",
                        "islands treaty talks three"],
                    2: ["islands treaty talks elsewhere"]})
    ranked = _search(index, "islands treaty talks", top=3)
    assert 4 in ranked[:2]


def test_a_question_read_as_someone_keeps_their_article_together() -> None:
    """Read as one expert (evidence naming article 1, which both articles' passages fit
    equally otherwise), the article's passages come first without the repeat discount; the
    same question without a reading is diversified."""
    from knowledge.index.types import Boost, Evidence

    index = _index({1: ["islands treaty talks one", "islands treaty talks two",
                        "islands treaty talks three"],
                    2: ["islands treaty talks elsewhere"]})
    query = "islands treaty talks"
    # A weak reading: too little to lift a repeat over article 2 by itself, were it discounted.
    evidence = Evidence((("person", Boost("Jane Roe", 0.02, article_ids=frozenset({1}))),))
    read = index.search(tokenize(query), EMB.embed([query])[0], top=4, evidence=evidence)
    assert [h.article_id for h in read] == [1, 1, 1, 2]
    assert 4 in _search(index, query, top=3)[:2]


def test_a_passage_fitting_more_of_the_reading_ranks_higher() -> None:
    """"What did Akiyama write in 2015?": both his articles fit the expert, only one the year.
    Fitting the expert *and* the year outranks the expert alone (the evidence of each part
    adds up; it used to be capped at one part, so the year counted for nothing there)."""
    from knowledge.index.types import Boost, Evidence

    index = _index({1: ["islands treaty talks in depth"], 2: ["islands treaty talks in depth"]},
                   {1: {"published": "2017-03"}, 2: {"published": "2015-06-11"}})
    query = "islands treaty talks"
    assert _search(index, query) == [1, 2]  # equal texts: the first added comes first
    person = ("person", Boost("by Jane Roe", 1.0, article_ids=frozenset({1, 2})))
    year = ("time", Boost("2015", 0.6, window=(dt.date(2015, 1, 1), dt.date(2015, 12, 31))))
    vector = EMB.embed([query])[0]
    read = index.search(tokenize(query), vector, top=2, evidence=Evidence((person, year)))
    assert [h.article_id for h in read] == [2, 1]
    assert read[0].why[-2:] == ("by Jane Roe", "2015")
    assert read[0].score <= 1  # the best possible score grows with the parts read
    only_person = index.search(tokenize(query), vector, top=2, evidence=Evidence((person,)))
    assert [h.article_id for h in only_person] == [1, 2]


def test_filters_by_article_publisher_and_dates() -> None:
    """Filters restrict results; partial dates count when their period overlaps the range."""
    index = _index({1: ["islands treaty in spring"], 2: ["islands treaty in winter"],
                    3: ["islands treaty undated"]},
                   {1: {"published": "2017-04"}, 2: {"published": "2019-01-22",
                                                       "publisher": "Other Pub"}})
    assert _search(index, "islands treaty", article_ids=frozenset({2})) == [2]
    assert _search(index, "islands treaty", publisher="other") == [2]
    assert sorted(_search(index, "islands treaty", since=dt.date(2017, 4, 30))) == [1, 2]
    assert _search(index, "islands treaty", since=dt.date(2017, 5, 1)) == [2]
    assert _search(index, "islands treaty", until=dt.date(2017, 4, 1)) == [1]
    assert _search(index, "islands treaty", until=dt.date(2016, 1, 1)) == []


def test_removed_articles_are_not_returned() -> None:
    """An article removed from the index disappears from results."""
    index = _index({1: ["islands treaty"], 2: ["islands treaty again"]})
    index.remove_article(1)
    assert _search(index, "islands treaty") == [2]


def test_highlight_is_the_sentence_sharing_the_query_terms() -> None:
    """The highlight is the passage's best-matching sentence, not its first."""
    index = _index({1: ["Weather was fine. The peace treaty was discussed at length. Lunch."]})
    hits = index.search(tokenize("peace treaty"), EMB.embed(["peace treaty"])[0], top=1)
    assert hits[0].highlight == "The peace treaty was discussed at length."


@pytest.mark.parametrize("top", [1, 3])
def test_top_limits_results(top: int) -> None:
    """Never more than `top` hits."""
    index = _index({i: [f"islands treaty text {i}"] for i in range(1, 6)})
    assert len(_search(index, "islands treaty", top=top)) == top


def test_diversified_selection_equals_rescoring_every_step() -> None:
    """The lazy heap picks exactly what re-scoring every remaining passage at each step picks
    (highest score x decay^(passages already taken from its article), ties to the lower
    position), in the same order with the same scores, ties and decay 1.0 included."""
    from knowledge.index.ranking import diversified

    def plain(scores: dict[int, float], article_of: list[int], top: int, decay: float
              ) -> dict[int, float]:
        remaining = dict(scores)
        taken: dict[int, int] = {}
        chosen: dict[int, float] = {}
        while remaining and len(chosen) < top:
            def adjusted(p: int) -> float:
                return remaining[p] * decay ** taken.get(article_of[p], 0)
            pos = max(remaining, key=lambda p: (adjusted(p), -p))
            chosen[pos] = adjusted(pos)
            taken[article_of[pos]] = taken.get(article_of[pos], 0) + 1
            del remaining[pos]
        return chosen

    rng = np.random.default_rng(13)
    for case in range(300):
        n = int(rng.integers(1, 60))
        article_of = rng.integers(0, max(1, n // 3), size=n).tolist()
        # Coarse values make ties common; the positions are a random subset.
        values = rng.integers(1, 6, size=n) / 4 if case % 2 else rng.random(n)
        scores = {int(p): float(v) for p, v in zip(rng.permutation(n), values, strict=True)
                  if rng.random() < 0.8}
        top = int(rng.integers(1, 20))
        decay = (0.7, 1.0, 0.35)[case % 3]
        got = diversified(scores, article_of, top, decay)
        assert list(got.items()) == list(plain(scores, article_of, top, decay).items())


def test_bm25_candidates_cut_at_equal_scores_by_position() -> None:
    """More passages tie at the BM25 side's cut than it keeps: the first ones by position are
    kept, best first, the same on every run (the cut used to depend on argpartition)."""
    from knowledge.index.ranking import top_positions

    positions = np.arange(10, 30, dtype=np.int64)
    scores = np.asarray([1.0] * 15 + [3.0, 2.0, 2.0, 5.0, 1.0], dtype=np.float32)
    assert top_positions(positions, scores, 5).tolist() == [28, 25, 26, 27, 10]
    assert top_positions(positions, scores, 4).tolist() == [28, 25, 26, 27]
    assert top_positions(positions, scores, 50).tolist() == [28, 25, 26, 27, *range(10, 25), 29]
    assert top_positions(positions[:0], scores[:0], 5).tolist() == []


def test_a_publisher_filter_is_words_of_the_name() -> None:
    """"Valdai Club" means "Valdai Discussion Club" (it used to need the name's exact run of
    words); word beginnings in any order, any case or accents; not a word's middle."""
    from knowledge.index.hybrid import publisher_fits

    assert publisher_fits("Valdai Club", "Valdai Discussion Club")
    assert publisher_fits("club valdai", "Valdai Discussion Club")
    assert publisher_fits("tokyo found", "The Tokyo Foundation for Policy Research")
    assert publisher_fits("Le Monde Diplo", "Le Monde diplomatique")
    assert publisher_fits("economie", "Économie Review")
    assert not publisher_fits("dai", "Valdai Discussion Club")
    assert not publisher_fits("Valdai Forum", "Valdai Discussion Club")
    assert not publisher_fits("  ", "Valdai Discussion Club")
    index = _index({1: ["Sanctions and the islands."], 2: ["Sanctions and the ferries."]},
                   {1: {"publisher": "Valdai Discussion Club"}, 2: {"publisher": "East Asia Forum"}})
    assert _search(index, "sanctions", publisher="Valdai Club") == [1]


def test_a_question_must_say_more_than_the_names_it_carries() -> None:
    """Below the names ceiling, a question whose other words the library never uses, and
    whose cosine with its best passage is no more than its names' alone ("weather in Tokyo"
    against "Tokyo"), has no good match; above the ceiling, with a clear margin, with words
    the library uses or without names, it is answered. The names are only embedded when the
    rule needs them."""
    from knowledge.index.types import NamesCheck, NoMatchRule

    index = HybridIndex(4)
    sentence = np.asarray([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    index.add(_article(1), [IndexedPassage(1, 1, "Tokyo and Moscow talk trade.", sentence[0],
                                           ((0, 28),), sentence)])
    rule = NoMatchRule(threshold=0.27, lexical_floor=0.2, coverage=0.5, names_margin=0.1,
                       names_ceiling=0.4)

    def unit(cosine: float, axis: int) -> np.ndarray:
        v = np.zeros(4, dtype=np.float32)
        v[0], v[axis] = cosine, np.sqrt(1 - cosine ** 2)
        return v

    asked: list[float] = []

    def answered(question: float, names: float | None, rest: str = "weather") -> bool:
        def names_vector() -> np.ndarray:
            asked.append(names)  # type: ignore[arg-type]
            return unit(names, 2)  # type: ignore[arg-type]
        check = NamesCheck(tuple(tokenize(rest)), names_vector) if names is not None else None
        return bool(index.search(tokenize(f"{rest} in Tokyo"), unit(question, 1), top=1,
                                 no_match=rule, names=check))

    assert not answered(0.35, 0.30)  # the names alone match almost as well
    assert answered(0.35, 0.20)  # the question adds 0.15 to its names
    assert answered(0.35, None)  # no names: the threshold alone decides
    assert asked == [0.30, 0.20]
    assert answered(0.45, 0.44)  # a strong match needs no names check
    assert answered(0.35, 0.30, rest="trade")  # the library speaks of trade
    assert asked == [0.30, 0.20]
    assert not answered(0.25, 0.0)  # under the threshold, whatever the names
    rule = NoMatchRule(threshold=0.27, lexical_floor=0.2, coverage=0.5, names_margin=0.0,
                       names_ceiling=0.4)
    assert answered(0.35, 0.40)  # a margin of 0 turns the check off

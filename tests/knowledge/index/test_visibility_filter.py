"""The per-server visibility filter of the in-memory index: the same ranking as restricting to
the articles the server may see, kept right as reach and passages arrive."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from knowledge.embedding import HashingEmbedder
from knowledge.index.hybrid import HybridIndex
from knowledge.index.types import Filters, IndexedPassage
from knowledge.models import ArticleSummary
from knowledge.text.tokens import tokenize

EMB = HashingEmbedder(64)
WORDS = ("summit islands treaty fisheries ferry visa energy pipeline sanctions tourism "
         "quota inspection bridge tunnel delegation accord").split()
GUILDS = (101, 102, 103)


def _passage(pid: int, aid: int, text: str) -> IndexedPassage:
    vector = EMB.embed([text])[0]
    return IndexedPassage(pid, aid, text, vector, ((0, len(text)),), np.asarray([vector]))


def _add(index: HybridIndex, aid: int, rng: random.Random, pid: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(12)) + f" article{aid}."
    summary = ArticleSummary(aid, f"Article {aid}", None, None, None, "en", (),
                             dt.datetime.now(dt.UTC))
    index.add(summary, [_passage(pid, aid, text)])
    return text


def _search(index: HybridIndex, query: str, filters: Filters) -> list[int]:
    vector = EMB.embed([query])[0]
    return [r.passage_id for r in index.search(tokenize(query), vector, top=10,
                                                filters=filters)]


def test_the_filter_ranks_as_the_visible_articles_would() -> None:
    """1,500 articles (the vectorised first build), reach spread over three servers and the
    operator: each server's results equal a search restricted to what it may see; reach and
    passages added afterwards are honoured by the cached masks."""
    rng = random.Random(3)
    index = HybridIndex(EMB.dim)
    reach = []
    texts = {}
    for aid in range(1, 1501):
        texts[aid] = _add(index, aid, rng, aid)
        reach.append((aid, aid, 0 if aid % 5 == 0 else GUILDS[aid % 3]))
    index.add_reach(reach)
    queries = ["fisheries quota inspection", "bridge tunnel ferry", "summit treaty islands"]

    def check() -> None:
        for guild in (*GUILDS, 0):
            allowed = index.visible_article_ids(guild)
            assert allowed and len(allowed) < len(index.articles)
            for query in queries:
                assert _search(index, query, Filters(visible_to=guild)) == \
                    _search(index, query, Filters(article_ids=allowed))

    check()
    # New reach (a duplicate from another server's source) and new passages (one at a time:
    # the masks are extended, not rebuilt).
    assert 7 not in _search(index, texts[7], Filters(visible_to=GUILDS[0]))
    assert 8 not in _search(index, texts[8], Filters(visible_to=GUILDS[0]))
    index.add_reach([(2001, 7, GUILDS[0]), (2002, 8, 0)])
    assert {7, 8} <= index.visible_article_ids(GUILDS[0])
    assert _search(index, texts[7], Filters(visible_to=GUILDS[0]))[0] == 7
    assert _search(index, texts[8], Filters(visible_to=GUILDS[0]))[0] == 8  # the operator's
    for aid in range(1501, 1511):
        _add(index, aid, rng, aid)
        index.add_reach([(2100 + aid, aid, GUILDS[1])])
    check()
    assert 1505 in index.visible_article_ids(GUILDS[1])
    assert 1505 not in index.visible_article_ids(GUILDS[2])
    assert _search(index, "fisheries", Filters(visible_to=None)) == \
        _search(index, "fisheries", Filters())

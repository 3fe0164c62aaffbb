"""Tokens for BM25 and highlighting: casefolded words, stop words out, Snowball stems."""

from __future__ import annotations

import functools
import re

import snowballstemmer

_WORD_RE = re.compile(r"[\w][\w'’\-]*", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("english")
STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further had hadn't has hasn't have haven't having he he'd
he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
or other ought our ours ourselves out over own same shan't she she'd she'll she's should
shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they'll they're they've this those through to too under until up very was
wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
yourself yourselves also s t just will said says say tell told think thought did does
""".split())


# Words a question uses to ask for commentary itself, in any library ("What did experts write
# in 2015?", "commentary from spring 2017"): a question made only of these, stop words and
# what its reading names (an expert, a period, a meeting) asks for what the reading names.
REQUEST_WORDS = frozenset("""
write writes wrote written writing comment comments commented commentary commentaries
article articles piece pieces paper papers view views opinion opinions analysis analyses
expert experts analyst analysts author authors commentator commentators scholar scholars
publish published publication publications argue argued expect expected expectation
expectations predict predicted prediction predictions happen happened anything something
everything new news report reports reported cover covered coverage discuss discussed
discussion discussions show list give find latest recent recently around time period
moment day days week weeks month months year years
""".split())


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of a casefolded word (cached: corpora repeat words)."""
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """Casefolded words, apostrophes and hyphens inside words kept."""
    return [w.strip("'’-") for w in _WORD_RE.findall(text.casefold())]


def tokenize(text: str) -> list[str]:
    """BM25 tokens: words without stop words, stemmed; hyphenated words also split."""
    out: list[str] = []
    for word in words(text):
        if not word or word in STOP_WORDS:
            continue
        out.append(stem(word))
        if "-" in word:
            out.extend(stem(p) for p in word.split("-") if p and p not in STOP_WORDS)
    return out


def request_stems() -> frozenset[str]:
    """The stems of REQUEST_WORDS."""
    return _REQUEST_STEMS


# Scripts written without spaces between words (Thai, kana, CJK ideographs): there each
# character is counted as a word, since a run of them between punctuation is one \w+ match.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Longer than any word in a dictionary: "x" × 999,000 or a base64 blob is not a word.
MAX_WORD_CHARS = 45


def readable_words(text: str) -> tuple[int, int]:
    """(words, characters in them) of ``text``, counting only what can be a word: runs of
    letters and digits of at most MAX_WORD_CHARS, or each character of an unspaced script.
    Symbols ("&&&&…"), and overlong runs of letters, are no words."""
    count = chars = 0
    for match in _WORD_RE.finditer(text):
        word = match.group()
        # search first: most words hold no unspaced script at all, and it stops at the first.
        unspaced = len(_UNSPACED.findall(word)) if _UNSPACED.search(word) else 0
        if unspaced and unspaced * 2 >= len(word):
            count += unspaced
            chars += len(word)
        elif len(word) <= MAX_WORD_CHARS:
            count += 1
            chars += len(word)
    return count, chars


_REQUEST_STEMS = frozenset(tokenize(" ".join(REQUEST_WORDS)))

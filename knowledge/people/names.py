"""Person-name normalisation: one key per person, whatever the spelling or how much of the name is given."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

_HONORIFICS = {"dr", "prof", "professor", "mr", "mrs", "ms", "sir", "dame", "amb", "ambassador"}
# Russian names come in several transliterations (Dmitry/Dmitri/Dmitriy, Sergey/Sergei): fold
# the usual endings so that they share a key.
_TRANSLIT_ENDING = re.compile(r"(?:iy|yi|ii|y|i)$")


def _fold(text: str) -> str:
    """Lower-case, strip accents and macrons."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def name_tokens(name: str) -> list[str]:
    """Normalised tokens of a person's name, honorifics dropped, transliteration folded."""
    tokens = []
    for raw in re.split(r"\s+", _fold(name).replace("’", "'").strip()):
        # a possessive is no part of the name: "Togo's" -> "togo"
        token = re.sub(r"[^a-z'-]", "", raw.removesuffix("'s").removesuffix("'S"))
        token = token.replace("'", "").replace("-", "")
        if not token or token in _HONORIFICS:
            continue
        if len(token) > 3:
            token = _TRANSLIT_ENDING.sub("i", token)
        tokens.append(token)
    return tokens


def canonical_person_key(name: str) -> str:
    """A spelling-insensitive key for a person's name ("Dmitri Streltsov" == "Dmitry Streltsov")."""
    return " ".join(name_tokens(name))


def merge_names(names: Iterable[str]) -> dict[str, str]:
    """Map every name to the display form of the person it denotes.

    Full names with the same key merge (the most frequent spelling wins); an initialled form
    ("M. Akiyama") or a bare surname ("Akiyama") merges into the one full name that fits, and
    stays as it is when none or several do.
    """
    names = [n.strip() for n in names if n and n.strip()]
    full: dict[str, Counter[str]] = {}
    for name in names:
        tokens = name_tokens(name)
        if len(tokens) >= 2 and len(tokens[0]) > 1:
            full.setdefault(" ".join(tokens), Counter())[name] += 1
    display = {key: counts.most_common(1)[0][0] for key, counts in full.items()}
    mapping: dict[str, str] = {}
    for name in names:
        tokens = name_tokens(name)
        key = " ".join(tokens)
        if key in display:
            mapping[name] = display[key]
            continue
        if not tokens:
            mapping[name] = name
            continue
        initial = tokens[0][0] if len(tokens) >= 2 else None
        fits = [k for k in display if k.split()[-1] == tokens[-1]
                and (initial is None or k.split()[0].startswith(initial))]
        mapping[name] = display[fits[0]] if len(fits) == 1 else name
    return mapping


def match_names(name: str, people: Iterable[tuple[K, str]]) -> list[K]:
    """The one person-name matcher: the keys of the people a loosely written name denotes
    ("streltsov", "Dmitri Streltsov", "togo", "strel"), best level only: the whole name, else
    every person holding all the typed words, else every person whose name words start with
    them (words of three letters or more); [] when nobody matches. Spelling, accents, titles
    and transliteration are folded (`name_tokens`)."""
    wanted = name_tokens(name)
    if not wanted:
        return []
    levels: dict[int, list[K]] = {}
    for key, full_name in people:
        tokens = name_tokens(full_name)
        if tokens == wanted:
            level = 3
        elif all(w in tokens for w in wanted):
            level = 2
        elif all(any(t.startswith(w) for t in tokens) for w in wanted if len(w) >= 3) \
                and all(len(w) >= 3 or w in tokens for w in wanted):
            level = 1
        else:
            continue
        levels.setdefault(level, []).append(key)
    return levels[max(levels)] if levels else []

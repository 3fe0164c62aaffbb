"""Name keys and merging of name variants."""

from __future__ import annotations

import pytest

from knowledge.people import canonical_person_key, find_subject, merge_names
from knowledge.people.names import match_names


def test_transliteration_variants_share_a_key() -> None:
    """Dmitry/Dmitri/Dmitriy and Sergey/Sergei fold to one key; honorifics and accents are ignored."""
    assert canonical_person_key("Dmitry Streltsov") == canonical_person_key("Dmitri Streltsov") \
        == canonical_person_key("Dr. Dmitriy Streltsov")
    assert canonical_person_key("Sergey Naryshkin") == canonical_person_key("Sergei Naryshkin")
    assert canonical_person_key("Shinzō Abe") == canonical_person_key("Shinzo Abe")
    assert canonical_person_key("Masahiro Akiyama") != canonical_person_key("Kazuhiko Togo")


def test_surname_merges_into_the_full_name() -> None:
    """"Akiyama" merges with "Masahiro Akiyama" and "Streltsov" with "Dmitry Streltsov"."""
    mapping = merge_names(["Masahiro Akiyama", "Akiyama", "Streltsov", "Dmitry Streltsov",
                           "Dmitri Streltsov", "M. Akiyama"])
    assert mapping == {"Masahiro Akiyama": "Masahiro Akiyama", "Akiyama": "Masahiro Akiyama",
                       "Streltsov": "Dmitry Streltsov", "Dmitry Streltsov": "Dmitry Streltsov",
                       "Dmitri Streltsov": "Dmitry Streltsov", "M. Akiyama": "Masahiro Akiyama"}


def test_ambiguous_surname_stays_apart() -> None:
    """A surname shared by two different full names is not merged into either."""
    mapping = merge_names(["Taro Sato", "Hanako Sato", "Sato"])
    assert mapping["Sato"] == "Sato"
    assert mapping["Taro Sato"] == "Taro Sato" and mapping["Hanako Sato"] == "Hanako Sato"


def test_initial_must_fit() -> None:
    """"K. Akiyama" does not merge into "Masahiro Akiyama"."""
    assert merge_names(["Masahiro Akiyama", "K. Akiyama"])["K. Akiyama"] == "K. Akiyama"


def test_subjects_are_recognised_by_name_or_alias() -> None:
    """Putin, Sergei Naryshkin and Abe are subjects; Masahiro Akiyama and a namesake Mori are not."""
    assert find_subject("Putin") is not None
    assert find_subject("Sergei Naryshkin") is not None
    assert find_subject("Abe") is not None
    assert find_subject("Masahiro Akiyama") is None
    assert find_subject("Kenta Mori") is None


PEOPLE = [(1, "Dmitry Streltsov"), (2, "Kazuhiko Togo"), (3, "Masahiro Akiyama"),
          (4, "Dmitri Trenin")]


@pytest.mark.parametrize(("typed", "keys"), [
    ("Dmitri Streltsov", [1]),  # another transliteration of the whole name
    ("streltsov", [1]),  # one word, any case
    ("strel", [1]),  # the start of a word
    ("Prof. Togo", [2]),  # titles dropped
    ("dmitry", [1, 4]),  # a first name two people share: both
    ("d streltsov", []),  # a word under three letters must be a whole word of the name
    ("nobody known", []),
    ("", []),
])
def test_match_names_is_the_one_loose_name_matcher(typed: str, keys: list[int]) -> None:
    """A loosely written name finds its people at the best level only (whole name, all words,
    word starts); spelling, titles and case do not matter."""
    assert match_names(typed, PEOPLE) == keys

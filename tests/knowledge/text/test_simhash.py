"""SimHash fingerprints: near-copies land a few bits apart, different texts far apart."""

from __future__ import annotations

import random

from knowledge.corpus import FOUNDING_DIR
from knowledge.text.simhash import (
    BANDS,
    NEAR_DUPLICATE_BITS,
    band_columns,
    bands,
    distance,
    simhash,
    to_signed,
)

TEXTS = sorted(p.read_text(encoding="utf-8") for p in FOUNDING_DIR.glob("*.txt"))


def test_a_near_copy_is_within_the_threshold() -> None:
    """A text with a credit line added and its punctuation and case changed stays close."""
    original = TEXTS[0]
    copy = "Republished with permission.\n" + original.replace(",", "").upper()
    a, b = simhash(original), simhash(copy)
    assert a is not None and b is not None
    assert distance(a, b) <= NEAR_DUPLICATE_BITS


def test_different_articles_are_far_apart() -> None:
    """Every pair of founding articles differs in far more bits than the threshold."""
    prints = [simhash(t) for t in TEXTS]
    assert all(p is not None for p in prints)
    for i, a in enumerate(prints):
        for b in prints[i + 1:]:
            assert a is not None and b is not None
            assert distance(a, b) > 4 * NEAR_DUPLICATE_BITS


def test_short_texts_get_no_fingerprint() -> None:
    """A teaser under MIN_WORDS words is not fingerprinted (it would match too much)."""
    assert simhash("The summit ended without a breakthrough on the islands.") is None


def test_signed_storage_keeps_distances() -> None:
    """The signed form a BIGINT column stores compares like the unsigned fingerprint."""
    a = simhash(TEXTS[1])
    assert a is not None
    high = a | (1 << 63)
    assert to_signed(high) < 0
    assert distance(to_signed(high), a) == distance(high, a)
    assert -(2 ** 63) <= to_signed(high) < 2 ** 63


def test_near_fingerprints_always_share_a_quarter() -> None:
    """Pigeonhole: flipping at most NEAR_DUPLICATE_BITS bits leaves one of the four 16-bit
    quarters untouched, so the indexed lookup by quarter finds every near-duplicate."""
    assert NEAR_DUPLICATE_BITS < BANDS
    rng = random.Random(20261130)
    for _ in range(2000):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), rng.randint(0, NEAR_DUPLICATE_BITS)):
            b ^= 1 << bit
        assert any(x == y for x, y in zip(bands(a), bands(b), strict=True)), (hex(a), hex(b))
    # and a fingerprint stored signed has the quarters of its unsigned form
    high = (1 << 63) | 0x0123_4567_89AB_CDEF
    assert bands(to_signed(high)) == bands(high) == (0xCDEF, 0x89AB, 0x4567, 0x8123)
    assert band_columns(None) == {f"simhash_band{i}": None for i in range(BANDS)}
    assert band_columns(high)["simhash_band3"] == 0x8123

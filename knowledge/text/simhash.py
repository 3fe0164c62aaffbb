"""64-bit SimHash of a text's word shingles, for spotting republished near-copies of an article.

Two texts that share almost all of their three-word shingles get fingerprints a few bits apart;
unrelated texts differ in about 32 of the 64 bits. The fingerprint is stored signed
(``to_signed``), because SQL BIGINT columns are signed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

import numpy as np

BITS = 64
SHINGLE_WORDS = 3
# Below this many words a fingerprint says little (a teaser matches too much): none is computed.
MIN_WORDS = 50
# Hamming distance at or under which two articles are taken for the same text.
NEAR_DUPLICATE_BITS = 3
_WORD = re.compile(r"\w+")
_MASK = (1 << BITS) - 1


def simhash(text: str) -> int | None:
    """Unsigned 64-bit fingerprint of ``text``, or None when the text is too short to judge."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < MIN_WORDS:
        return None
    shingles = Counter(" ".join(words[i:i + SHINGLE_WORDS])
                       for i in range(len(words) - SHINGLE_WORDS + 1))
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    # One row of 64 bits per shingle (most significant first); each votes +count or -count.
    bits = np.unpackbits(np.frombuffer(digests, np.uint8)).reshape(len(shingles), BITS)
    counts = np.fromiter(shingles.values(), np.int64, len(shingles))
    weights = counts @ (bits.astype(np.int64) * 2 - 1)
    return int("".join("1" if w > 0 else "0" for w in weights), 2)


def distance(a: int, b: int) -> int:
    """Number of differing bits between two fingerprints (signed or unsigned)."""
    return ((a & _MASK) ^ (b & _MASK)).bit_count()


# Four 16-bit quarters: two fingerprints within NEAR_DUPLICATE_BITS (3) of each other agree on
# at least one of them, so a lookup by quarter finds every near-duplicate (migration 0005).
BANDS = 4
BAND_BITS = BITS // BANDS


def bands(value: int) -> tuple[int, ...]:
    """The fingerprint's quarters, from its signed or unsigned form alike (the stored columns
    ``simhash_band0..3``)."""
    value &= _MASK
    return tuple((value >> (BAND_BITS * i)) & ((1 << BAND_BITS) - 1) for i in range(BANDS))


def band_columns(value: int | None) -> dict[str, int | None]:
    """The article columns that hold a fingerprint's quarters (all None without one)."""
    parts: tuple[int | None, ...] = bands(value) if value is not None else (None,) * BANDS
    return {f"simhash_band{i}": part for i, part in enumerate(parts)}


def to_signed(value: int) -> int:
    """An unsigned 64-bit fingerprint as the signed integer a BIGINT column holds."""
    value &= _MASK
    return value - (1 << BITS) if value >> (BITS - 1) else value

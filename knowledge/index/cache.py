"""The index cache: the in-memory index as one file of flat arrays, memory-mapped at start-up.

Rebuilding the index from every stored passage re-tokenises each one for BM25 and rebuilds the
postings (seconds at 100,000 passages). The cache keeps what that produces: passage vectors
(float32, so a cache-loaded index ranks exactly like a fresh load) and, for a large index, their
int8 copy (knowledge/index/dense.py), sentence vectors (float16, as stored), ids, texts, sentence spans, the BM25 postings as flat arrays with their vocabulary
and document lengths, and the title and publisher each passage's BM25 terms were made with.

The file is only a copy: `Library.load_index` checks it against the database (`CacheMeta` and
the checks there) and falls back to the normal load when anything disagrees. It is written
whole to a temporary file and renamed over the old one, so a reader sees an old file or a new
one, never half of one; a process that has the old one mapped keeps reading it.

Layout: 8 magic bytes, the header's length (8 bytes, little endian), the JSON header (metadata,
and per array its offset, dtype, shape and CRC-32), then each array at a 64-byte boundary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mmap
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from knowledge.index.rows import StringColumn
from knowledge.settings import database_url_without_password

MAGIC = b"SDIDXC\x00\x01"
FORMAT = 2  # 2: the passage vectors' int8 copy (knowledge/index/dense.py), when large
_ALIGN = 64
# Checked on load for every array but these: the sentence vectors are the largest part of the
# file and a search reads only the candidates' rows; summing them all would map them all in.
_UNCHECKED = frozenset({"sentence_vectors"})


class CacheError(Exception):
    """The cache file is missing, unreadable or inconsistent (the message says which)."""


@dataclasses.dataclass(frozen=True, slots=True)
class CacheMeta:
    """What the cached index was built from; checked against the database before use."""

    fingerprint: str  # the embedding model's
    schema_revision: str  # the database's Alembic revision
    dim: int
    max_passage_id: int  # the highest passage id the index had seen
    passages: int  # how many stored passages it holds (ids <= max_passage_id)
    passage_id_sum: int  # their ids' sum: a different database with the same count differs here
    deletions_seen: int  # the last article_deletions id applied
    format: int = FORMAT


def cache_path(data_dir: Path, database_url: str) -> Path:
    """The cache file for a database: local to this machine, keyed by a hash of its URL without
    the password (a hash of the password would let anyone who can read the file name test
    guesses, and a new password would throw the cache away)."""
    key = hashlib.sha256(database_url_without_password(database_url).encode()).hexdigest()[:16]
    return data_dir / "index-cache" / f"index-{key}.bin"


def _encode_strings(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 buffer and their byte offsets."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _string_column(blob: np.ndarray, offsets: np.ndarray,
                   read: Callable[[int, int], bytes | memoryview]) -> StringColumn:
    """The strings `_encode_strings` stored (decoded one at a time, when read)."""
    at = offsets.tolist()
    if not at or at[0] != 0 or at[-1] != len(blob) or np.any(np.diff(offsets) < 0):
        raise CacheError("string offsets do not match their text")
    return StringColumn(read, at)


def write(path: Path, meta: CacheMeta, strings: dict[str, Sequence[str]],
          arrays: dict[str, np.ndarray], pieces: dict[str, list[np.ndarray]] | None = None
          ) -> int:
    """Write the cache atomically (temporary file, fsync, rename); returns its size in bytes.

    `pieces` are arrays written as the concatenation of their parts along the first axis
    (the first part gives the dtype and row shape), without assembling them in memory."""
    everything: dict[str, list[np.ndarray]] = {
        name: [np.ascontiguousarray(array)] for name, array in arrays.items()}
    for name, values in strings.items():
        blob, at = _encode_strings(values)
        everything[f"{name}.utf8"], everything[f"{name}.offsets"] = [blob], [at]
    for name, parts in (pieces or {}).items():
        first = parts[0]
        everything[name] = [np.ascontiguousarray(p, dtype=first.dtype).reshape(
            -1, *first.shape[1:]) for p in parts]
    table: dict[str, list[object]] = {}
    offsets: dict[str, int] = {}
    offset = 0
    for name, parts in everything.items():
        crc: int | None = None
        if name not in _UNCHECKED:
            crc = 0
            for part in parts:
                if part.nbytes:  # (a memoryview of an empty 2-d array cannot be cast)
                    crc = zlib.crc32(part.data.cast("B"), crc)
        shape = [sum(len(p) for p in parts), *parts[0].shape[1:]] if parts[0].ndim else []
        table[name] = [offset, parts[0].dtype.str, shape, crc]
        offsets[name] = offset
        offset += -(-sum(p.nbytes for p in parts) // _ALIGN) * _ALIGN
    header = json.dumps({"meta": dataclasses.asdict(meta), "arrays": table,
                         "strings": sorted(strings), "body": offset}).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, parts in everything.items():
                out.seek(start + offsets[name])
                for part in parts:
                    if part.nbytes:
                        out.write(part.data.cast("B"))
            out.truncate(start + offset)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return start + offset


@dataclasses.dataclass(frozen=True, slots=True)
class CachedIndex:
    """A checked cache file: metadata, strings, arrays mapped read-only, and a reader for rows
    of the sentence vectors that does not map them (see `read`)."""

    meta: CacheMeta
    strings: dict[str, Sequence[str]]
    arrays: dict[str, np.ndarray]
    # rows a..b of the sentence vectors for each (a, b) given, read and joined in one array
    sentence_rows: Callable[[Sequence[tuple[int, int]]], np.ndarray]


class _FileRange:
    """Bytes of one stored array read with pread, not through the map: file pages mapped into
    a process count in its RSS, and the kernel maps whole large folios (up to 2 MB) around
    each scattered read (measured: 200 passages' sentence vectors read through the map made
    290 MB resident)."""

    __slots__ = ("_file", "_start")

    def __init__(self, file: BinaryIO, start: int) -> None:
        self._file = file
        self._start = start

    def read(self, a: int, b: int) -> bytes:
        return os.pread(self._file.fileno(), b - a, self._start + a)


def _remove_abandoned(path: Path) -> None:
    """Delete temporary files left by writers that died before renaming them (each can be
    hundreds of MB); a live writer's file is left alone."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (ValueError, PermissionError, OSError):
            continue


def read(path: Path) -> CachedIndex:
    """Map the cache file (arrays are read-only views of it) and check its structure and
    checksums; raises CacheError when it is missing or damaged. Passage texts and sentence
    vectors are read row by row when asked for (a search reads a few hundred)."""
    file: BinaryIO | None = None
    try:
        file = path.open("rb")
        if file.read(len(MAGIC)) != MAGIC:
            raise CacheError("not an index cache file of this version")
        length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(length))
        meta = CacheMeta(**header["meta"])
        if meta.format != FORMAT:
            raise CacheError(f"written by another version of Summit Desk (cache format "
                             f"{meta.format}; this one reads {FORMAT})")
        start = -(-(len(MAGIC) + 8 + length) // _ALIGN) * _ALIGN
        if os.fstat(file.fileno()).st_size != start + header["body"]:
            raise CacheError("file size does not match its header (truncated?)")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        # A plain read-only ndarray over the map (slicing a np.memmap costs ~5 us a slice in
        # its __array_finalize__: 0.6 s over 100,000 passages' sentence vectors).
        buf = np.frombuffer(mapped, dtype=np.uint8)
        arrays: dict[str, np.ndarray] = {}
        ranges: dict[str, _FileRange] = {}
        for name, (offset, dtype, shape, crc) in header["arrays"].items():
            dt = np.dtype(dtype)
            nbytes = (int(np.prod(shape)) if shape else 1) * dt.itemsize
            # Checked by reading the file, so the check does not make the pages resident here.
            if crc is not None and _crc(file, start + offset, nbytes) != crc:
                raise CacheError(f"checksum mismatch in {name}")
            arrays[name] = buf[start + offset:start + offset + nbytes].view(dt).reshape(shape)
            ranges[name] = _FileRange(file, start + offset)
        strings: dict[str, Sequence[str]] = {}
        for name in header["strings"]:
            blob, offsets = arrays.pop(f"{name}.utf8"), arrays.pop(f"{name}.offsets")
            text_bytes = ranges[f"{name}.utf8"].read if name == "texts" else \
                (lambda a, b, blob=blob: blob.data[a:b])
            strings[name] = _string_column(blob, offsets, text_bytes)
        _check_shapes(meta, strings, arrays)
    except BaseException as exc:
        if file is not None:
            file.close()
        if isinstance(exc, FileNotFoundError):
            raise CacheError("no cache file") from exc
        if isinstance(exc, (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError)):
            raise CacheError(f"unreadable: {exc}") from exc
        raise
    row_bytes = meta.dim * 2  # float16
    fd, origin = file.fileno(), ranges["sentence_vectors"]._start

    def sentence_rows(spans: Sequence[tuple[int, int]]) -> np.ndarray:
        raw = b"".join([os.pread(fd, (b - a) * row_bytes, origin + a * row_bytes)
                        for a, b in spans])
        return np.frombuffer(raw, dtype=np.float16).reshape(-1, meta.dim)

    return CachedIndex(meta, strings, arrays, sentence_rows)


def _crc(file: BinaryIO, offset: int, nbytes: int) -> int:
    crc, done = 0, 0
    while done < nbytes:
        chunk = os.pread(file.fileno(), min(1 << 22, nbytes - done), offset + done)
        if not chunk:
            raise CacheError("file ends early")
        crc = zlib.crc32(chunk, crc)
        done += len(chunk)
    return crc


def _check_shapes(meta: CacheMeta, strings: dict[str, Sequence[str]],
                  arrays: dict[str, np.ndarray]) -> None:
    """The arrays agree with each other and the metadata (so indexing them cannot fail)."""
    try:
        n = len(arrays["passage_ids"])
        ok = (
            meta.format == FORMAT and n == meta.passages
            and len(arrays["article_ids"]) == n and len(strings["texts"]) == n
            and arrays["vectors"].shape == (n, meta.dim)
            and len(arrays["span_offsets"]) == n + 1
            and int(arrays["span_offsets"][-1]) == len(arrays["spans"])
            and len(arrays["sentence_offsets"]) == n + 1
            and int(arrays["sentence_offsets"][-1]) == len(arrays["sentence_vectors"])
            and arrays["sentence_vectors"].shape[1:] == (meta.dim,)
            and len(arrays["bm25_lengths"]) == n
            and len(arrays["bm25_offsets"]) == len(strings["bm25_vocab"]) + 1
            and int(arrays["bm25_offsets"][-1]) == len(arrays["bm25_positions"])
            == len(arrays["bm25_tfs"])
            and (not len(arrays["bm25_positions"])
                 or 0 <= int(arrays["bm25_positions"].min()) <= int(
                     arrays["bm25_positions"].max()) < n)
            and len(arrays["header_article_ids"]) == len(strings["headers"])
            and int(arrays["max_passage_id"][0]) == meta.max_passage_id
            and ("vector_codes" not in arrays or (
                arrays["vector_codes"].shape == (n, meta.dim)
                and arrays["vector_codes"].dtype == np.uint8
                and arrays["vector_scales"].shape == (n,)
                and arrays["vector_bounds"].shape == (n, 2)))
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise CacheError(f"inconsistent: {exc}") from exc
    if not ok:
        raise CacheError("inconsistent arrays")

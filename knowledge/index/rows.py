"""Per-passage columns that start as rows of the index cache file, made on access, and grow by
appending: at 100,000 passages, building every text, span tuple and vector view up front took
longer than the rest of opening the cache and held ~150 MB the searches never look at."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, SupportsIndex, TypeVar, overload

T = TypeVar("T")


class Rows(Generic[T]):
    """A list-like column: `base` rows read through `get` (e.g. from a memory-mapped file),
    then the appended ones."""

    __slots__ = ("_base", "_get", "_tail")

    def __init__(self, base: int = 0, get: Callable[[int], T] | None = None) -> None:
        if base and get is None:
            raise ValueError("base rows need a getter")
        self._base = base
        self._get = get
        self._tail: list[T] = []

    def __len__(self) -> int:
        return self._base + len(self._tail)

    def __getitem__(self, i: SupportsIndex) -> T:
        i = operator.index(i)
        if i < 0:
            i += len(self)
        if 0 <= i < self._base:
            assert self._get is not None
            return self._get(i)
        if i < 0:
            raise IndexError(i)
        return self._tail[i - self._base]

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(len(self)))

    def append(self, value: T) -> None:
        """Add a row at the end."""
        self._tail.append(value)


class StringColumn(Sequence[str]):
    """Strings stored as one UTF-8 buffer and byte offsets; each read and decoded on access."""

    __slots__ = ("_offsets", "_read")

    def __init__(self, read: Callable[[int, int], bytes | memoryview], offsets: list[int]
                 ) -> None:
        self._read = read  # bytes a..b of the buffer
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: SupportsIndex) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: SupportsIndex | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        i = operator.index(i)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return str(self._read(self._offsets[i], self._offsets[i + 1]), "utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

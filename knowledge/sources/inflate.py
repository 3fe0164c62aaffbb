"""Undo an HTTP Content-Encoding (gzip, deflate) without ever producing more than a set limit.

httpx inflates every network chunk whole and applies stacked encodings one after another, so a
few hundred bytes of ``gzip, gzip`` become gigabytes before any size check runs. Here each call
asks zlib for at most the bytes still allowed (``max_length``), and only one encoding is accepted.
"""

from __future__ import annotations

import zlib

from knowledge.sources.errors import FetchError

SUPPORTED_ENCODINGS = ("gzip", "deflate")
_ALIASES = {"x-gzip": "gzip", "gzip": "gzip", "deflate": "deflate"}


def parse_content_encoding(header: str | None) -> str | None:
    """The one encoding to undo ("gzip" or "deflate"), or None for an identity body.

    Stacked encodings ("gzip, gzip") and unknown ones are refused with a FetchError.
    """
    layers = [part.strip().lower() for part in (header or "").split(",")]
    layers = [layer for layer in layers if layer and layer != "identity"]
    if not layers:
        return None
    if len(layers) > 1:
        raise FetchError("protocol", "refused: the server stacked several content encodings "
                                     f"({', '.join(layers[:3])})")
    if layers[0] not in _ALIASES:
        raise FetchError("protocol", f"refused: unsupported content encoding ({layers[0][:20]})")
    return _ALIASES[layers[0]]


class BoundedInflater:
    """Inflates one gzip or deflate body chunk by chunk; ``feed`` raises once past ``limit``."""

    def __init__(self, encoding: str, limit: int, too_large: FetchError) -> None:
        self._encoding = encoding
        self._limit = limit
        self._too_large = too_large
        self._produced = 0
        self._decoder: zlib._Decompress | None = None
        self._first = b""  # deflate: the first bytes decide between zlib-wrapped and raw
        self._done = False

    def feed(self, data: bytes) -> bytes:
        """Decompressed bytes for this chunk of the wire body."""
        if self._decoder is None:
            self._decoder = self._start(data)
            if self._decoder is None:
                return b""
            data, self._first = self._first, b""
        out = bytearray()
        while data and not self._done:
            room = self._limit - self._produced
            try:
                # One byte over the room tells "too large" apart from "exactly at the limit".
                piece = self._decoder.decompress(data, room + 1)
            except zlib.error:
                raise FetchError("protocol", "the server sent a body that could not be "
                                             "decompressed") from None
            self._produced += len(piece)
            if self._produced > self._limit:
                raise self._too_large
            out += piece
            data = self._decoder.unconsumed_tail
            if self._decoder.eof:
                data = self._decoder.unused_data
                # A gzip body may hold several members in a row; anything else ends here.
                if self._encoding == "gzip" and data.lstrip(b"\x00"):
                    self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    self._done = True
        return bytes(out)

    def _start(self, data: bytes) -> zlib._Decompress | None:
        """The decoder for this body; for deflate, wait until two bytes show which kind it is."""
        if self._encoding == "gzip":
            self._first = data
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._first += data
        if len(self._first) < 2:
            return None
        # RFC 9110 deflate is zlib-wrapped, but some servers send a raw deflate stream.
        header = int.from_bytes(self._first[:2], "big")
        wrapped = (self._first[0] & 0x0F) == 8 and header % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def finish(self) -> bytes:
        """Whatever a short deflate body still holds (under two bytes are not a stream)."""
        if self._decoder is None and self._first:
            raise FetchError("protocol", "the server sent a body that could not be decompressed")
        return b""

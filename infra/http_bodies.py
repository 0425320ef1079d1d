"""Answers of servers we do not control, read within a bound of bytes that holds once they are inflated too.

httpx inflates a compressed answer as it reads it, every encoding the server lists in turn: a 2 KB answer sent
``Content-Encoding: gzip, gzip`` becomes a gigabyte before any limit on what was read can see it. Here the raw bytes
are counted as they arrive, and inflated by hand with a budget of output: one encoding at most (``gzip`` or
``deflate``, which is what we ask for); anything else is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import httpx

ACCEPTED_ENCODINGS = "gzip, deflate"  # the Accept-Encoding we send: what :func:`read_bounded` inflates
_GZIP_WINDOW = 16 + zlib.MAX_WBITS
_DEFLATE_WINDOWS = (zlib.MAX_WBITS, -zlib.MAX_WBITS)  # as RFC 9110 says (zlib), and as some servers send (raw)


class BodyRefused(Exception):
    """The answer is larger than allowed (raw or inflated), or compressed in a way that is not read."""


def read_bounded(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The answer's body, inflated, at most ``limit`` bytes raw and inflated; :class:`BodyRefused` beyond, unless
    ``truncate`` (an excerpt: the first ``limit`` bytes, what is beyond left unread)."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return _raw(response.iter_raw(), limit, truncate=truncate)
    if "," in encoding:
        raise BodyRefused(f"the answer is compressed more than once ({encoding[:40]}): it is not read")
    if encoding in ("gzip", "x-gzip"):
        windows: tuple[int, ...] = (_GZIP_WINDOW,)
    elif encoding == "deflate":
        windows = _DEFLATE_WINDOWS
    else:
        raise BodyRefused(f"the answer is compressed as {encoding[:40]!r}, which is not read")
    raw = _raw(response.iter_raw(), limit, truncate=truncate)
    for window in windows:
        try:
            return inflate(raw, window, limit, truncate=truncate)
        except zlib.error:
            continue
    raise BodyRefused("the compressed answer cannot be inflated")


def _raw(chunks: Iterable[bytes], limit: int, *, truncate: bool) -> bytes:
    read = bytearray()
    for chunk in chunks:
        read += chunk
        if len(read) > limit:
            if truncate:
                return bytes(read[:limit])
            raise BodyRefused(f"the answer is larger than {limit // 1024} KiB: it is not read")
    return bytes(read)


def inflate(data: bytes, window: int, limit: int, *, truncate: bool = False) -> bytes:
    """``data`` inflated (one member after another, as gzip allows), never more than ``limit`` bytes of output made;
    ``zlib.error`` if it is not compressed so (an excerpt may end mid-stream)."""
    out, rest = bytearray(), data
    while rest:
        inflater = zlib.decompressobj(window)
        out += inflater.decompress(rest, limit + 1 - len(out))  # never 0 (which zlib reads as "no bound")
        if len(out) > limit:
            if truncate:
                return bytes(out[:limit])
            raise BodyRefused(f"the answer is larger than {limit // 1024} KiB once inflated: it is not read")
        if not inflater.eof:
            if truncate:
                return bytes(out)
            raise zlib.error("the compressed answer ends before its end")
        rest = inflater.unused_data
    return bytes(out)

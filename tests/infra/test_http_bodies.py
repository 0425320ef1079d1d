"""Answers that expand (``infra/http_bodies.py``, ``infra.calendar_http._xml``): a compressed answer is counted raw and
inflated within the same bound, stacked or unknown encodings are refused, and a multistatus is built within a bound
of elements and depth; a webhook receiver's answer is an excerpt inflated within its own bound. Over a real HTTP
server on a free port."""

from __future__ import annotations

import functools
import gzip
import uuid
import zlib

import pytest

from infra import calendar_http, http_bodies
from infra.calendar_http import CalendarFault
from infra.config import get_settings
from tests.calendar_servers import Feed, subscription_server
from workflows.calendars import accounts as calendar_accounts
from workflows.webhooks import sending
from workflows.webhooks.sending import Delivery

MIB = 1024 * 1024
LIMIT = get_settings().calendar_max_bytes  # 8 MiB


@functools.cache
def bomb_of(size: int) -> bytes:
    """``size`` bytes of zeros, gzipped (a thousandth of their size): a gzip member of a MiB, repeated."""
    return gzip.compress(bytes(MIB)) * (size // MIB)


def fetch(feed: Feed) -> bytes:
    with subscription_server(feed) as url:
        client = calendar_accounts.client_for(get_settings(), {"url": url})
        with client:
            return client.request("GET", url).body


def test_a_gzip_answer_is_inflated_within_the_bound_and_a_bomb_is_refused() -> None:
    text = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" * 1000
    assert fetch(Feed(body=gzip.compress(text), headers={"Content-Encoding": "gzip"})) == text
    assert fetch(Feed(body=zlib.compress(text), headers={"Content-Encoding": "deflate"})) == text
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert fetch(Feed(body=raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})) == text
    # Two gzip members, one after the other, as gzip allows.
    assert fetch(Feed(body=gzip.compress(text) + gzip.compress(text), headers={"Content-Encoding": "gzip"})) == \
        text * 2
    one_gib = bomb_of(1024 * MIB)
    assert len(one_gib) < 1.1 * MIB
    with pytest.raises(CalendarFault, match="larger than 8192 KiB once inflated"):
        fetch(Feed(body=one_gib, headers={"Content-Encoding": "gzip"}))


def test_stacked_and_unknown_encodings_are_refused_before_anything_is_inflated() -> None:
    twice = gzip.compress(bomb_of(1024 * MIB))  # 2 KB that httpx would inflate to a gibibyte
    assert len(twice) < 8 * 1024
    with pytest.raises(CalendarFault, match=r"compressed more than once \(gzip, gzip\)"):
        fetch(Feed(body=twice, headers={"Content-Encoding": "gzip, gzip"}))
    with pytest.raises(CalendarFault, match="compressed as 'br'"):
        fetch(Feed(body=b"\x00" * 100, headers={"Content-Encoding": "br"}))
    with pytest.raises(CalendarFault, match="cannot be inflated"):
        fetch(Feed(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}))


def test_the_raw_answer_is_bounded_too() -> None:
    with pytest.raises(CalendarFault, match="larger than 8192 KiB: it is not read"):
        fetch(Feed(body=b"x" * (LIMIT + 1)))
    assert len(fetch(Feed(body=b"x" * LIMIT))) == LIMIT


def test_an_excerpt_is_the_first_bytes_inflated_whatever_follows() -> None:
    inflated = http_bodies.inflate(bomb_of(64 * MIB), 16 + zlib.MAX_WBITS, 1000, truncate=True)
    assert inflated == bytes(1000)
    assert http_bodies.inflate(gzip.compress(b"ok")[:-6], 16 + zlib.MAX_WBITS, 1000, truncate=True) == b"ok"


def test_a_multistatus_is_built_within_a_bound_of_elements_and_depth() -> None:
    nested = b"<a>" * 1_000_000 + b"</a>" * 1_000_000  # 7 MB that would take half a gigabyte as a tree
    with pytest.raises(CalendarFault, match="nests deeper than 32 elements"):
        calendar_http._xml(nested)
    many = b"<d:multistatus xmlns:d='DAV:'>" + b"<d:response/>" * 300_000 + b"</d:multistatus>"
    with pytest.raises(CalendarFault, match="more than 250000 elements"):
        calendar_http._xml(many)
    fine = calendar_http._xml(b"<d:multistatus xmlns:d='DAV:'><d:response><d:href>/x/</d:href></d:response>"
                              b"</d:multistatus>")
    assert fine.findtext("{DAV:}response/{DAV:}href") == "/x/"


def test_a_webhook_receivers_answer_is_an_excerpt_inflated_within_its_bound() -> None:
    def delivered(feed: Feed) -> sending.Outcome:
        with subscription_server(feed) as url:
            [outcome] = sending.send_batch([Delivery(
                message_id=f"msg_{uuid.uuid4().hex}", attempt_id=uuid.uuid4(), attempt_number=1,
                endpoint_id=uuid.uuid4(), url=url, secret="whsec_" + "A" * 32, body='{"type":"webhook.test"}')],
                settings=get_settings())
        return outcome

    readable = delivered(Feed(status=500, body=gzip.compress(b"upstream timed out " * 100),
                              headers={"Content-Encoding": "gzip"}))
    assert readable.status_code == 500 and readable.response_excerpt == ("upstream timed out " * 100)[:1024]
    bomb = delivered(Feed(status=500, body=gzip.compress(bomb_of(1024 * MIB)),
                          headers={"Content-Encoding": "gzip, gzip"}))
    assert bomb.response_excerpt == "(the answer is compressed more than once (gzip, gzip): it is not read)"

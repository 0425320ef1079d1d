"""Reading and writing a mentor's own calendar over HTTP: an iCalendar subscription (a GET with its validators), and
CalDAV (RFC 4791): discovery (principal, calendar home, calendars), a time-range REPORT, and PUT and DELETE of one
event.

Every request goes through the webhooks' SSRF guard (``infra.http_targets``: it connects to the address checked,
loopback only where ``WEBHOOK_ALLOW_LOOPBACK_TARGETS`` allows it) and the webhooks' deadline client
(``infra.http_client``: the whole exchange ends within ``timeout``); an answer longer than ``max_bytes`` is
refused. Redirects are followed by hand, at most three, each target checked again. Only the small part of
WebDAV that these need is spoken here: the ``caldav`` package's own HTTP stack could be neither pinned nor bounded.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin
from xml.etree import ElementTree
from xml.parsers import expat

import httpx

from infra import http_bodies, http_client, http_targets

DAV, CALDAV, CS = "DAV:", "urn:ietf:params:xml:ns:caldav", "http://calendarserver.org/ns/"
MAX_REDIRECTS = 3
UNAUTHORIZED = (401, 403)


UNREACHABLE = "the calendar server could not be reached"
NOT_A_CALENDAR = "no calendar could be read at this address"
CREDENTIALS_REFUSED = "the server refused the user name or app password"


class CalendarFault(Exception):
    """The calendar could not be read or written: down, slow, refused, too large, or an answer that makes no sense.

    ``str()`` is the detail, for the log; ``public`` what the mentor is told. A calendar whose content is refused
    (too large, too many events) says why; a server that cannot be reached, or is no calendar, says only that, so
    the service tells nobody which addresses resolve, which ports answer, or what a host answers.
    """

    def __init__(self, detail: str, public: str | None = None) -> None:
        super().__init__(detail)
        self.public = public or self.generic or detail

    generic: str | None = None


class CalendarUnreachable(CalendarFault):
    """No answer: the address is refused or does not resolve, the connection failed, or it was too slow."""

    generic = UNREACHABLE


class NotACalendar(CalendarFault):
    """An answer, but not one of a calendar: a status other than the expected one, not XML, no calendar found."""

    generic = NOT_A_CALENDAR


class CalendarAuthFailed(CalendarFault):
    """The server refused the credentials (401 or 403)."""

    generic = CREDENTIALS_REFUSED


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str


@dataclass(frozen=True)
class RemoteCalendar:
    href: str
    name: str
    ctag: str | None
    writable: bool


@dataclass
class CalendarClient:
    """One account's requests: its credentials (none for a subscription), the guard's scope, and the bounds."""

    scope: http_targets.TargetScope
    timeout: float
    max_bytes: int
    username: str | None = None
    password: str | None = None
    origin: str | None = None  # the account's scheme, host and port: credentials go there and nowhere else
    https_only: bool = False
    total: float | None = None  # every request of the with block, together: a slow server ties up a worker no longer
    _client: httpx.Client | None = field(default=None, repr=False)
    _deadline: http_client.AttemptDeadline | None = field(default=None, repr=False)
    _ends: float | None = field(default=None, repr=False)

    def __enter__(self) -> CalendarClient:
        self._client, self._deadline = http_client.batch_client(self.timeout)
        self._ends = None if self.total is None else time.monotonic() + self.total
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
                ) -> Answer:
        """One request, redirects followed (a new target checked each time); ``CalendarFault`` if it fails."""
        assert self._client is not None, "use the client in a with block"
        assert self._deadline is not None
        sent = dict(headers or {})
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        left = self.timeout if self._ends is None else min(self.timeout, self._ends - time.monotonic())
        if left <= 0:
            raise CalendarUnreachable(f"the calendar could not be read within {self.total:g} s in all")
        self._deadline.start(left)  # one deadline for the request, its redirects included
        for _ in range(MAX_REDIRECTS + 1):
            if self.username is not None and self.origin is not None and origin_of(url) != self.origin:
                raise NotACalendar("the server sent us to another address: its credentials are not sent there")
            try:
                target = http_targets.pin_target(url, scope=self.scope, https_only=self.https_only)
            except http_targets.TargetRefused as exc:
                raise CalendarUnreachable(f"the address is refused: {exc}") from None
            answer = self._send(method, url, target, sent, body)
            if answer.status in (301, 302, 307, 308) and answer.headers.get("location"):
                url = urljoin(url, answer.headers["location"])
                continue
            if answer.status in UNAUTHORIZED:
                raise CalendarAuthFailed(f"the server refused the credentials (HTTP {answer.status})")
            return answer
        raise NotACalendar(f"more than {MAX_REDIRECTS} redirects")

    def _send(self, method: str, url: str, target: http_targets.PinnedTarget, headers: dict[str, str],
              body: bytes | None) -> Answer:
        assert self._client is not None
        sent = {**headers, "Accept-Encoding": http_bodies.ACCEPTED_ENCODINGS, **target.headers}
        try:
            with self._client.stream(method, target.url, headers=sent, content=body,
                                     extensions=target.extensions) as response:
                return Answer(response.status_code, response.headers,
                              http_bodies.read_bounded(response, self.max_bytes), url)
        except http_bodies.BodyRefused as exc:
            raise CalendarFault(str(exc)) from None
        except httpx.TimeoutException:
            if self._ends is not None and time.monotonic() >= self._ends:
                raise CalendarUnreachable(f"the calendar could not be read within {self.total:g} s in all") from None
            raise CalendarUnreachable(f"no complete answer within {self.timeout:g} s") from None
        except (httpx.HTTPError, OSError) as exc:
            raise CalendarUnreachable(f"the server could not be reached ({type(exc).__name__}: {exc})") from None


def origin_of(url: str) -> str:
    """Scheme, host and port of a URL, as credentials are scoped."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port or {'http': 80, 'https': 443}.get(parsed.scheme, 0)}"


# --- an iCalendar subscription ----------------------------------------------------------------------------


def fetch_subscription(client: CalendarClient, url: str, validators: dict[str, str]) -> tuple[bytes | None,
                                                                                                dict[str, str]]:
    """The feed, or ``None`` when the server says it has not changed since ``validators`` (304); its new
    validators."""
    headers = {"Accept": "text/calendar"}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    answer = client.request("GET", url, headers=headers)
    if answer.status == 304:  # noqa: PLR2004 - Not Modified
        return None, validators
    if answer.status != 200:  # noqa: PLR2004
        raise NotACalendar(f"the calendar address answered HTTP {answer.status}")
    kept = {"etag": answer.headers.get("etag"), "last_modified": answer.headers.get("last-modified")}
    return answer.body, {key: value for key, value in kept.items() if value}


# --- CalDAV ---------------------------------------------------------------------------------------------


def _propfind(client: CalendarClient, url: str, props: str, depth: str) -> ElementTree.Element:
    body = (f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="{CALDAV}" xmlns:cs="{CS}">'
            f"<d:prop>{props}</d:prop></d:propfind>").encode()
    answer = client.request("PROPFIND", url, headers={"Depth": depth, "Content-Type": "application/xml"}, body=body)
    if answer.status != 207:  # noqa: PLR2004 - Multi-Status
        raise NotACalendar(f"the server answered HTTP {answer.status} where CalDAV answers 207")
    return _xml(answer.body)


MAX_XML_ELEMENTS = 250_000  # a calendar query's answer for CALENDAR_MAX_EVENTS' 20,000 events holds about 140,000
MAX_XML_DEPTH = 32  # a multistatus is six deep


def _refuse_doctype(*_args: object) -> None:
    raise NotACalendar("the answer declares a document type or entities: refused")


def _xml(body: bytes, *, max_elements: int = MAX_XML_ELEMENTS, max_depth: int = MAX_XML_DEPTH) -> ElementTree.Element:
    """The answer's XML tree, built by expat as it reads: refused when it declares a document type (so entities), in
    whatever encoding it comes, holds more than ``max_elements`` elements or nests deeper than ``max_depth``, before
    more of it is built (an answer of 8 MiB nested a million deep would take half a gigabyte as a tree)."""
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    depth = count = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth, count
        depth, count = depth + 1, count + 1
        if depth > max_depth:
            raise NotACalendar(f"the answer nests deeper than {max_depth} elements: refused")
        if count > max_elements:
            raise NotACalendar(f"the answer holds more than {max_elements} elements: refused")
        builder.start(_qualified(name), {_qualified(key): value for key, value in attributes.items()})

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(_qualified(name))

    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(body, True)  # noqa: FBT003 - expat: the last piece
        return builder.close()
    except expat.ExpatError:
        raise NotACalendar("the answer is not XML") from None


def _qualified(name: str) -> str:
    """expat's ``uri}local`` as ElementTree's ``{uri}local``."""
    return f"{{{name}" if "}" in name else name


def _href(root: ElementTree.Element, prop: str, base: str) -> str:
    found = root.find(f".//{{{DAV}}}propstat/{{{DAV}}}prop/{prop}/{{{DAV}}}href")
    if found is None or not (found.text or "").strip():
        raise NotACalendar("this is not a CalDAV server (no principal or calendar home found)")
    return urljoin(base, (found.text or "").strip())


def discover(client: CalendarClient, url: str) -> list[RemoteCalendar]:
    """The calendars of the account at ``url`` (a server, a principal or a calendar home): principal → home →
    calendars holding events."""
    principal = _href(_propfind(client, url, "<d:current-user-principal/>", "0"),
                      f"{{{DAV}}}current-user-principal", url)
    home = _href(_propfind(client, principal, "<c:calendar-home-set/>", "0"), f"{{{CALDAV}}}calendar-home-set",
                 principal)
    root = _propfind(client, home, "<d:resourcetype/><d:displayname/><cs:getctag/>"
                     "<c:supported-calendar-component-set/><d:current-user-privilege-set/>", "1")
    found = []
    for response in root.findall(f"{{{DAV}}}response"):
        href = (response.findtext(f"{{{DAV}}}href") or "").strip()
        prop = response.find(f"{{{DAV}}}propstat/{{{DAV}}}prop")
        if not href or prop is None or prop.find(f"{{{DAV}}}resourcetype/{{{CALDAV}}}calendar") is None:
            continue
        components = [c.get("name") for c in prop.findall(f"{{{CALDAV}}}supported-calendar-component-set/"
                                                           f"{{{CALDAV}}}comp")]
        if components and "VEVENT" not in components:
            continue
        privileges = prop.find(f"{{{DAV}}}current-user-privilege-set")
        writable = privileges is None or any(
            privileges.find(f".//{{{DAV}}}{name}") is not None for name in ("write", "write-content", "all"))
        full = urljoin(home, href)
        found.append(RemoteCalendar(full, (prop.findtext(f"{{{DAV}}}displayname") or "").strip()[:200]
                                    or href.rstrip("/").rsplit("/", 1)[-1], prop.findtext(f"{{{CS}}}getctag"),
                                    writable))
    return found


def ctag(client: CalendarClient, calendar_url: str) -> str | None:
    """The calendar's getctag (changes whenever an event does), if the server keeps one."""
    return _propfind(client, calendar_url, "<cs:getctag/>", "0").findtext(f".//{{{CS}}}getctag")


def events_between(client: CalendarClient, calendar_url: str, start: datetime, end: datetime) -> list[bytes]:
    """The calendar objects holding an event that meets [start, end) (recurring ones whole: expanded here)."""
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    body = (f'<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="{CALDAV}">'
            "<d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name=\"VCALENDAR\">"
            f'<c:comp-filter name="VEVENT"><c:time-range start="{stamp(start)}" end="{stamp(end)}"/>'
            "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>").encode()
    answer = client.request("REPORT", calendar_url, headers={"Depth": "1", "Content-Type": "application/xml"},
                            body=body)
    if answer.status != 207:  # noqa: PLR2004 - Multi-Status
        raise NotACalendar(f"the calendar answered HTTP {answer.status} to a time-range query")
    return [(data.text or "").encode() for data in _xml(answer.body).iter(f"{{{CALDAV}}}calendar-data")]


def put_event(client: CalendarClient, calendar_url: str, uid: str, ics: bytes) -> None:
    """Write one event at ``<calendar>/<uid>.ics``, whatever was there (the latest state wins)."""
    answer = client.request("PUT", event_url(calendar_url, uid), headers={"Content-Type": "text/calendar"}, body=ics)
    if answer.status not in (200, 201, 204):
        raise CalendarFault(f"the calendar refused the event (HTTP {answer.status})")


def delete_event(client: CalendarClient, calendar_url: str, uid: str) -> None:
    answer = client.request("DELETE", event_url(calendar_url, uid))
    if answer.status not in (200, 204, 404):
        raise CalendarFault(f"the calendar refused to delete the event (HTTP {answer.status})")


def event_url(calendar_url: str, uid: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in uid)
    return urljoin(calendar_url if calendar_url.endswith("/") else calendar_url + "/", f"{safe}.ics")

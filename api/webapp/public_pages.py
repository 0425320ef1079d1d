"""The public pages, rendered by the server so they preview when shared and can be indexed: the directory of public
mentors (``/mentors``), a mentor's page (``/mentors/<id>``) and a listing's booking page (``/book/<slug>``), with
``/robots.txt`` and ``/sitemap.xml`` telling search engines what they may index.

They read what ``/api/v1/public`` serves (``workflows.mentors.public``) and nothing more. Times are written in the
visitor's timezone (``tz``, which a small script adds from the browser; UTC until then) and language
(``Accept-Language``, or the one chosen on the page: ``lang``; ``api.webapp.words``); choosing one opens the web
app at that time, which asks a visitor to sign in or sign up and brings them back to it. A page may be framed only
by the sites its mentor allows (none by default).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency, format_decimal
from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException

from api.database import db_session
from api.errors import in_readers_words, status_for
from api.ratelimit import limit_public_reads
from api.webapp import words
from workflows import language
from workflows.clock import utcnow
from workflows.errors import DomainError, NotFound
from workflows.mentors import public
from workflows.wording import locale_of, zone_of

blp = Blueprint("public_pages", __name__, template_folder="templates")
blp.before_request(limit_public_reads)
# How long a visitor's page may be kept by a cache, and how many pages the sitemap names.
CACHED_SECONDS = 60
MAX_SITEMAP_URLS = 5_000
DIRECTORY_PAGE = 24
DEFAULT_HORIZON_DAYS = 365


def _policy(frame_ancestors: list[str]) -> str:
    """Our own scripts and styles only (the mentor's avatar may come from any https address); framed only by the
    mentor's allowed sites."""
    allowed = " ".join(frame_ancestors) or "'none'"
    return "; ".join(["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' https: data:",
                      "base-uri 'none'", "form-action 'self'", f"frame-ancestors {allowed}"])


def _page(template: str, *, frame_ancestors: list[str] | None = None, **context: Any) -> Response:
    chosen = request.args.get("lang") if request.args.get("lang") in language.LANGUAGES else None
    response = Response(render_template(template, base=_base_url(), chosen=chosen,
                                        **words.context(_reader(), request.args), **context), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _policy(frame_ancestors or [])
    response.headers["Cache-Control"] = f"public, max-age={CACHED_SECONDS}"
    response.headers["Vary"] = "Accept-Language"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def _base_url() -> str:
    return str(current_app.extensions["settings"].public_url).rstrip("/")


def _reader() -> words.Reader:
    return words.reader_of(request.headers.get("Accept-Language"), request.args.get("lang"))


def _locale() -> Locale:
    """The locale the page's dates, times and prices are written in (its reader's)."""
    return locale_of(_reader().locale)


def _zone() -> tuple[Any, bool]:
    """The visitor's zone (``tz``), and whether it was one we know: an unknown one (a browser newer than our
    zone data, say) reads UTC, and the page says so."""
    name = request.args.get("tz")
    if name is None:
        return UTC, True
    zone = zone_of(name) if len(name) <= 64 else None  # noqa: PLR2004 - the longest IANA name is 32
    return (zone, True) if zone is not None else (UTC, False)



def price(cents: int, currency: str, locale: Locale) -> str:
    return _reader().say(words.FREE) if cents == 0 else format_currency(cents / 100, currency, locale=locale)


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    data = getattr(error, "data", {})
    said = data.get("said")
    message = in_readers_words(said, _reader().locale) if isinstance(said, DomainError) else data.get("message")
    return _error_page(error.code or 500, message or error.description or "", data.get("headers"))


@blp.errorhandler(NotFound)
def _not_found(_error: NotFound) -> Response:
    return _error_page(404, _reader().say(words.NO_PAGE))


@blp.errorhandler(DomainError)
def _refused(error: DomainError) -> Response:
    return _error_page(status_for(error), in_readers_words(error, _reader().locale))


def _error_page(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = _page("public_error.html", status=status, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


@dataclass(frozen=True)
class _Day:
    label: str
    times: list[dict[str, Any]]


@blp.get("/mentors")
def directory() -> Response:
    """The public mentors, 24 a page, of a skill or the best matches of a few words."""
    q = (request.args.get("q") or "").strip()[:100] or None
    if q and "\x00" in q:
        raise BadRequest("the search words hold a character that is not text")
    cursor = (request.args.get("cursor") or "")[:500] or None
    found = public.public_mentors(db_session(), skill=None, q=q, limit=DIRECTORY_PAGE, cursor=cursor)
    return _page("public_directory.html", mentors=found.items, next_cursor=found.next_cursor, q=q or "")


@blp.get("/mentors/<uuid:profile_id>")
def mentor_page(profile_id: uuid.UUID) -> Response:
    page = public.public_mentor_page(db_session(), profile_id)
    locale = _locale()
    listings = [(listing, price(listing.price_cents, listing.currency, locale)) for listing in page.listings]
    rating = format_decimal(page.profile.rating_average or 0, format="0.0", locale=locale)
    return _page("public_mentor.html", frame_ancestors=page.embed_origins, mentor=page.profile, listings=listings,
                 rating=rating)


@blp.get("/book/<string(maxlength=80):slug>")
def booking_page(slug: str) -> Response:
    """A listing's booking page: what it is, who teaches it, and its free times a week at a time (``week``, a date
    in ``tz``), each a link into the web app at that time."""
    db = db_session()
    listing = public.public_listing(db, public.checked_slug(slug))
    (zone, known), language = _zone(), _locale()
    today = utcnow().astimezone(zone).date()
    horizon = today + timedelta(days=listing.max_days_ahead or DEFAULT_HORIZON_DAYS)
    try:
        first = date.fromisoformat(request.args["week"]) if "week" in request.args else today
    except ValueError:
        raise BadRequest("`week` is a date: YYYY-MM-DD") from None
    first = min(max(first, today), horizon)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=7), time(), zone).astimezone(UTC)
    days: dict[date, list[dict[str, Any]]] = {}
    for found in public.public_times(db, listing, start=start, end=end):
        local = found.start_time.astimezone(zone)
        days.setdefault(local.date(), []).append({
            "start": found.start_time.isoformat().replace("+00:00", "Z"),
            "label": f"{format_time(found.start_time, 'short', tzinfo=zone, locale=language)}\u2013"
                     f"{format_time(found.end_time, 'short', tzinfo=zone, locale=language)}",
            "seats_left": found.seats_left})
    shown = [_Day(format_skeleton("yMMMMEEEEd", datetime.combine(day, time(12)), locale=language), times)
             for day, times in sorted(days.items())]

    def week_link(day: date) -> str | None:
        if not today <= day <= horizon:
            return None
        kept = {"tz": request.args["tz"]} if "tz" in request.args else {}
        return "?" + urlencode({"week": day.isoformat(), **kept})

    mentor = listing.mentor_profile
    return _page(
        "public_booking.html", frame_ancestors=mentor.embed_origins, listing=listing, mentor=mentor, days=shown,
        zone=getattr(zone, "key", "UTC"), price=price(listing.price_cents, listing.currency, language),
        week=format_skeleton("yMMMd", datetime.combine(first, time(12)), locale=language),
        earlier=week_link(max(first - timedelta(days=7), today)) if first > today else None, known_zone=known,
        later=week_link(first + timedelta(days=7)))


@blp.get("/robots.txt")
def robots() -> Response:
    """The public pages may be indexed; the app, its API and the operators' routes may not."""
    lines = ["User-agent: *", "Allow: /book/", "Allow: /mentors", "Disallow: /api/", "Disallow: /web/",
             "Disallow: /health/", "Disallow: /metrics", "Disallow: /$", f"Sitemap: {_base_url()}/sitemap.xml", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blp.get("/sitemap.xml")
def sitemap() -> Response:
    """The public mentors' pages and their active listings' booking pages (the first 5,000)."""
    base = _base_url()
    mentors, slugs = public.indexed(db_session(), limit=MAX_SITEMAP_URLS)
    urls = [f"{base}/mentors", *(f"{base}/mentors/{m}" for m in mentors), *(f"{base}/book/{s}" for s in slugs)]
    body = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    response = Response('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/'
                        f'sitemap/0.9">{body}</urlset>\n', mimetype="application/xml")
    response.headers["Cache-Control"] = f"public, max-age={CACHED_SECONDS * 10}"
    return response

"""Visitors without an account: the read-only routes of `/api/v1/public` and the pages the server renders
(`/mentors`, `/mentors/<id>`, `/book/<slug>`, `/robots.txt`, `/sitemap.xml`). Only what a mentor made public is
found, nothing private is shown, every answer may be cached a little, and each client address is rate-limited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import BookingStatus, ListingKind
from tests.api_calls import future
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import GroupSessionFactory

PUBLIC_LISTING_FIELDS = {"slug", "id", "title", "description", "skill", "duration_minutes", "price_cents", "currency",
                         "kind", "capacity", "instant_booking", "max_days_ahead", "mentor"}
TOKYO = ZoneInfo("Asia/Tokyo")
PUBLIC_MENTOR_FIELDS = {"id", "display_name", "headline", "avatar_url", "rating_average", "rating_count"}


def public_listing(**fields: object) -> object:
    mentor = MentorProfileFactory(public=True, headline="Databases", timezone="Europe/Paris",
                                  user=UserFactory(display_name="Marie Mentor"))
    return ListingFactory(mentor_profile=mentor, title="Code review", location="Room 4, 12 rue de la Paix",
                          **fields)


def read(client: FlaskClient, path: str, **kwargs: object) -> tuple[int, str, dict[str, str]]:
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_a_visitor_reads_a_public_mentor_and_listing_without_a_token_and_nothing_private(
        client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    mentor = listing.mentor_profile
    # A mentee's booking of it: never shown to visitors.
    mentee = UserFactory(display_name="Alex Mentee")
    BookingFactory(listing=listing, mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED, start_time=future(days=2),
                   end_time=future(days=2) + timedelta(hours=1))
    found = client.get(f"/api/v1/public/listings/{listing.slug}").get_json()
    assert set(found) == PUBLIC_LISTING_FIELDS and set(found["mentor"]) == PUBLIC_MENTOR_FIELDS
    assert (found["id"], found["title"], found["mentor"]["display_name"]) == (str(listing.id), "Code review",
                                                                              "Marie Mentor")
    profile = client.get(f"/api/v1/public/mentors/{mentor.id}").get_json()
    assert [item["slug"] for item in profile["listings"]] == [listing.slug]
    directory = client.get("/api/v1/public/mentors?limit=100").get_json()
    assert str(mentor.id) in {m["id"] for m in directory["items"]}
    everything = str(found) + str(profile) + str(directory)
    for private in (mentor.user.email, "Room 4", "Europe/Paris", "Alex Mentee", str(mentee.id)):
        assert private not in everything
    # A private mentor, and an unknown slug: 404, the same answer.
    mentor.public = False
    db.flush()
    assert client.get(f"/api/v1/public/listings/{listing.slug}").status_code == 404
    assert client.get(f"/api/v1/public/mentors/{mentor.id}").status_code == 404
    missing = client.get("/api/v1/public/listings/no-such-listing")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"  # never kept by a cache


def test_public_times_are_the_free_slots_and_group_seats_left(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    start = future(days=2, hour=0)
    window = f"from={start.isoformat().replace('+00:00', 'Z')}&to={(start + timedelta(days=1)).isoformat()}"
    times = client.get(f"/api/v1/public/listings/{listing.slug}/times?{window.replace('+', '%2B')}").get_json()
    assert len(times["items"]) == 24 and times["items"][0] == {
        "start_time": start.isoformat(), "end_time": (start + timedelta(hours=1)).isoformat(), "seats_left": None}
    group = public_listing(kind=ListingKind.GROUP.value, capacity=4)
    GroupSessionFactory(listing=group, start_time=start + timedelta(hours=9), seats_taken=1)
    seats = client.get(f"/api/v1/public/listings/{group.slug}/times?{window.replace('+', '%2B')}").get_json()
    assert [t["seats_left"] for t in seats["items"]] == [3]
    # More than a month at once: 422, nothing read.
    too_long = f"from={start.isoformat()}&to={(start + timedelta(days=32)).isoformat()}".replace("+", "%2B")
    assert client.get(f"/api/v1/public/listings/{listing.slug}/times?{too_long}").status_code == 422


def test_public_answers_may_be_cached_and_revalidated(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    first = client.get(f"/api/v1/public/listings/{listing.slug}")
    assert first.headers["Cache-Control"] == "public, max-age=60" and first.headers["ETag"]
    again = client.get(f"/api/v1/public/listings/{listing.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    # What carries personal data keeps its no-store.
    signed_in = as_caller(UserFactory())
    assert client.get("/api/v1/me", headers=signed_in.headers).headers["Cache-Control"] == "no-store"


def test_each_client_address_is_rate_limited_on_public_reads(
        db: Session, configure: Callable[..., None], session_factory: object) -> None:
    from api import create_app
    from infra.config import get_settings

    configure(PUBLIC_RATE_LIMIT="3/minute")
    listing = public_listing()
    limited = create_app(get_settings(), session_factory=session_factory)  # type: ignore[arg-type]
    client = limited.test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    paths = [f"/api/v1/public/listings/{listing.slug}", f"/book/{listing.slug}", "/mentors"]
    assert [client.get(p, environ_base=here).status_code for p in paths] == [200, 200, 200]
    refused = client.get(paths[0], environ_base=here)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    page = client.get(paths[1], environ_base=here)
    assert page.status_code == 429 and page.mimetype == "text/html" and "retry in" in page.get_data(as_text=True)
    # Another address is not held back.
    assert client.get(paths[0], environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 200


def slot_links(page: str) -> list[str]:
    return re.findall(r'href="(/#/listings/[^"]+)"', page)


def test_the_booking_page_is_rendered_by_the_server_in_the_visitors_zone_with_links_back_into_the_app(
        client: FlaskClient, db: Session) -> None:
    listing = public_listing(description="A careful review of one pull request.")
    status, page, headers = read(client, f"/book/{listing.slug}?tz=Asia/Tokyo",
                                 headers={"Accept-Language": "en-GB"})
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    assert "<title>Code review with Marie Mentor · Mentorship</title>" in page
    assert f'<link rel="canonical" href="http://127.0.0.1:8000/book/{listing.slug}">' in page.replace(
        re.search(r'href="(https?://[^/"]+)/book/', page).group(1), "http://127.0.0.1:8000")  # type: ignore[union-attr]
    assert '<meta property="og:title" content="Code review with Marie Mentor">' in page
    assert "Times in Asia/Tokyo." in page and "£50.00" not in page and "US$50.00" in page
    links = slot_links(page)
    assert links and all(link.startswith(f"/#/listings/{listing.id}?start=") for link in links)
    first = datetime.fromisoformat(unquote(parse_qs(urlsplit(links[0]).fragment.split("?")[1])["start"][0]))
    assert first > datetime.now(UTC) and first.astimezone().tzinfo is not None
    assert f">{first.astimezone(TOKYO):%H:%M}\u2013" in page
    for private in (listing.mentor_profile.user.email, "Room 4", "Europe/Paris"):
        assert private not in page
    # The next week is a link; a bad zone or week is a clear 400 page.
    next_week = datetime.now(TOKYO).date() + timedelta(days=7)
    assert f'href="?week={next_week.isoformat()}&amp;tz=Asia%2FTokyo">Next week</a>' in page
    # A zone whose name holds a "+" keeps it in the week's links.
    _, plus, _ = read(client, f"/book/{listing.slug}?tz=Etc%2FGMT%2B5")
    (later,) = re.findall(r'href="(\?week=[^"]+)">Next week', plus)
    assert later.endswith("&amp;tz=Etc%2FGMT%2B5")
    status, page_after, _ = read(client, f"/book/{listing.slug}{later.replace('&amp;', '&')}")
    assert status == 200 and "Times in Etc/GMT+5." in page_after
    # A zone we do not know (a browser's newer zone data, say) reads UTC, and the page says so.
    status, unknown, _ = read(client, f"/book/{listing.slug}?tz=Mars/Olympus")
    assert status == 200 and "Times in UTC (your browser&#39;s timezone is not one we know)." in unknown
    status, bad, _ = read(client, f"/book/{listing.slug}?week=someday")
    assert status == 400 and "YYYY-MM-DD" in bad


def test_a_private_or_unknown_booking_page_is_a_404_page_not_indexed(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    listing.mentor_profile.public = False
    db.flush()
    for path in (f"/book/{listing.slug}", f"/mentors/{listing.mentor_profile.id}", "/book/nothing-here"):
        status, page, headers = read(client, path)
        assert status == 404 and '<meta name="robots" content="noindex">' in page, path
        assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("origins", "expected"), [
    ([], "frame-ancestors 'none'"),
    (["https://mentoring.example.edu"], "frame-ancestors https://mentoring.example.edu"),
])
def test_a_mentor_chooses_which_sites_may_frame_their_pages(
        client: FlaskClient, db: Session, origins: list[str], expected: str) -> None:
    listing = public_listing()
    caller = as_caller(listing.mentor_profile.user)
    changed = client.patch(f"/api/v1/mentor-profiles/{listing.mentor_profile.id}", headers=caller.headers,
                           json={"embed_origins": origins})
    assert changed.status_code == 200 and changed.get_json()["embed_origins"] == origins
    for path in (f"/book/{listing.slug}", f"/mentors/{listing.mentor_profile.id}"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert policy.endswith(expected) and "script-src 'self'" in policy
    app_page = client.get("/")
    app_page.close()
    assert app_page.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


@pytest.mark.parametrize("origin", ["http://insecure.example", "https://example.com/path", "javascript:alert(1)",
                                    "https://" + "a" * 300 + ".com", "https://" + ".".join(["a" * 60] * 4) + ".com"])
def test_an_embedding_site_is_an_https_origin_and_at_most_five(client: FlaskClient, db: Session, origin: str) -> None:
    profile = MentorProfileFactory()
    caller = as_caller(profile.user)
    assert client.patch(f"/api/v1/mentor-profiles/{profile.id}", headers=caller.headers,
                        json={"embed_origins": [origin]}).status_code == 422
    six = [f"https://site{i}.example" for i in range(6)]
    assert client.patch(f"/api/v1/mentor-profiles/{profile.id}", headers=caller.headers,
                        json={"embed_origins": six}).status_code == 422
    assert client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=caller.headers).get_json()[
        "embed_origins"] == []


def test_the_directory_and_a_mentors_page_list_public_mentors_and_their_listings(
        client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    hidden = ListingFactory(title="Hidden offer", mentor_profile=MentorProfileFactory(
        user=UserFactory(display_name="Private Person")))
    _, page, _ = read(client, "/mentors")
    assert "Marie Mentor" in page and "Private Person" not in page
    _, found, _ = read(client, "/mentors?q=Marie")
    assert f'href="/mentors/{listing.mentor_profile.id}"' in found
    _, mine, _ = read(client, f"/mentors/{listing.mentor_profile.id}")
    assert f'href="/book/{listing.slug}"' in mine and hidden.slug not in mine


def test_search_engines_are_told_what_they_may_index(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    private = ListingFactory()
    status, robots, _ = read(client, "/robots.txt")
    assert status == 200 and "Allow: /book/" in robots and "Disallow: /api/" in robots
    assert re.search(r"^Sitemap: https?://\S+/sitemap.xml$", robots, re.MULTILINE)
    _, sitemap, headers = read(client, "/sitemap.xml")
    assert headers["Content-Type"].startswith("application/xml")
    assert f"/book/{listing.slug}</loc>" in sitemap and private.slug not in sitemap


def test_hostile_public_input_is_a_4xx_never_a_5xx(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    times = "/api/v1/public/listings/a%00b/times?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z"
    for path in ("/api/v1/public/listings/%00", times, "/book/%00", "/book/a%20b", f"/book/{'a' * 81}"):
        assert client.get(path).status_code == 404, path
    for path in ("/mentors?q=%00", "/mentors?cursor=not-a-cursor", f"/book/{listing.slug}?week=99999-01-01"):
        status = client.get(path).status_code
        assert 400 <= status < 500, (path, status)


def test_an_inactive_listing_of_a_public_mentor_is_nowhere_public(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    shown = ListingFactory(mentor_profile=listing.mentor_profile, title="Still offered")
    listing.active = False
    db.flush()
    assert read(client, f"/book/{listing.slug}")[0] == 404
    assert client.get(f"/api/v1/public/listings/{listing.slug}").status_code == 404
    _, page, _ = read(client, f"/mentors/{listing.mentor_profile.id}")
    assert shown.slug in page and listing.slug not in page
    assert listing.slug not in read(client, "/sitemap.xml")[1] and shown.slug in read(client, "/sitemap.xml")[1]


def test_a_week_ahead_can_always_go_back_to_this_week(client: FlaskClient, db: Session) -> None:
    listing = public_listing()
    today = datetime.now(UTC).date()
    _, page, _ = read(client, f"/book/{listing.slug}?week={(today + timedelta(days=3)).isoformat()}")
    assert f'href="?week={today.isoformat()}">Previous week</a>' in page


def test_only_the_mentor_reads_their_embedding_sites(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(embed_origins=["https://mentoring.example.edu"])
    owner, other = as_caller(profile.user), as_caller(UserFactory())
    assert client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=owner.headers).get_json()[
        "embed_origins"] == ["https://mentoring.example.edu"]
    assert client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=other.headers).get_json()[
        "embed_origins"] == []

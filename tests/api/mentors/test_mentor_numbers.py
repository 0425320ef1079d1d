"""A mentor's numbers (``GET /mentor-profiles/{id}/stats``): their last 12 months by month in their own timezone,
their reviews by stars, their mentees; what is theirs and the admins' only, and what anyone sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from models import MentorProfile
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.numbers import month_name, month_start, past_year
from workflows.actors import Actor
from workflows.sessions import analytics


def numbers(client: FlaskClient, profile: MentorProfile, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/mentor-profiles/{profile.id}/stats", headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_the_mentor_sees_their_months_ratings_and_mentees_counted_by_hand(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(timezone="Asia/Tokyo")
    past_year(profile)
    mine = numbers(client, profile, as_caller(profile.user).headers)
    months = mine["sessions_per_month"]
    assert [m["month"] for m in months] == [month_name("Asia/Tokyo", back) for back in range(11, -1, -1)]
    by_name = {m["month"]: m for m in months}
    # Dan's session at 03:00 on the 1st in Tokyo is last month's there, though it is the month before in UTC.
    assert by_name.pop(month_name("Asia/Tokyo", 1)) == {"month": month_name("Asia/Tokyo", 1), "completed": 3,
                                                        "cancelled": 1, "no_show": 0, "missed": 0}
    assert by_name.pop(month_name("Asia/Tokyo", 3)) == {"month": month_name("Asia/Tokyo", 3), "completed": 2,
                                                        "cancelled": 0, "no_show": 2, "missed": 1}
    assert all(m["completed"] == m["cancelled"] == m["no_show"] == m["missed"] == 0 for m in by_name.values())
    assert mine["ratings"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}  # the hidden 1-star review is not counted
    assert (mine["average_rating"], mine["reviews_count"]) == (4.67, 3)
    assert (mine["mentees"], mine["repeat_mentees"]) == (3, 1)  # Ada, Bea, Dan; Ada came back; Cy's was too long ago
    admin = numbers(client, profile, as_caller(UserFactory(is_admin=True)).headers)
    assert admin["sessions_per_month"] == months and admin["repeat_mentees"] == 1


def test_anyone_else_sees_the_public_fields_only(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(timezone="Asia/Tokyo")
    past_year(profile)
    mine = numbers(client, profile, as_caller(profile.user).headers)
    theirs = numbers(client, profile, as_caller(UserFactory()).headers)
    another_mentor = numbers(client, profile, as_caller(MentorProfileFactory().user).headers)
    assert theirs == another_mentor
    assert [(m["month"], m["completed"], m["missed"]) for m in theirs["sessions_per_month"]] == [
        (m["month"], m["completed"], m["missed"]) for m in mine["sessions_per_month"]]
    assert all(m["cancelled"] is None and m["no_show"] is None for m in theirs["sessions_per_month"])
    assert (theirs["ratings"], theirs["mentees"]) == (mine["ratings"], 3)
    assert (theirs["repeat_mentees"], theirs["no_show_count"]) == (None, None)


def test_a_new_mentor_has_twelve_empty_months(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(timezone="America/Los_Angeles")
    mine = numbers(client, profile, as_caller(profile.user).headers)
    assert len(mine["sessions_per_month"]) == 12
    assert mine["sessions_per_month"][-1]["month"] == f"{month_start('America/Los_Angeles', 0):%Y-%m}"
    assert mine["ratings"] == {str(stars): 0 for stars in range(1, 6)}
    assert (mine["mentees"], mine["repeat_mentees"]) == (0, 0)


def test_ten_thousand_sessions_are_counted_in_sql_over_the_index(db: Session) -> None:
    """Ten years of a busy mentor's group sessions, beside another's: the months are one range of the index
    counted by the database, in a fixed number of statements."""
    listing, other = ListingFactory(kind="group", capacity=5), ListingFactory(kind="group", capacity=5)
    first = month_start("UTC", 119)
    for made in (listing, other):
        db.execute(text(
            "INSERT INTO sessions (id, kind, listing_id, mentor_profile_id, start_time, end_time, status, capacity, "
            "completed_at) SELECT gen_random_uuid(), 'group', :listing, :mentor, :first + n * interval '525 minutes', "
            ":first + n * interval '525 minutes' + interval '1 hour', 'completed', 5, :first "
            "FROM generate_series(0, 9999) AS n"), {"listing": made.id, "mentor": made.mentor_profile_id,
                                                   "first": first})
    db.execute(text("ANALYZE sessions"))
    statements: list[tuple[str, Any]] = []
    listen = lambda _c, _cu, statement, parameters, *_a: statements.append((statement, parameters))  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        stats = analytics.mentor_stats(db, Actor(listing.mentor_profile.user_id), listing.mentor_profile_id)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    since, until = month_start("UTC", 11), month_start("UTC", -1)
    in_window = sum(1 for n in range(10_000) if since <= first + timedelta(minutes=525 * n) < until)
    assert sum(m.completed for m in stats.sessions_per_month) == in_window > 0
    months_query, parameters = next(s for s in statements if "to_char" in s[0])
    plan = db.connection().exec_driver_sql(f"EXPLAIN {months_query}", parameters).scalars().all()
    assert any("ix_sessions_mentor_start" in line for line in plan), plan
    assert len(statements) < 10

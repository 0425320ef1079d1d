"""The page of an email's unsubscribe link (``/unsubscribe?token=…``), rendered by the server so it works in any
browser, without signing in and without the web app: opening it changes nothing (mail scanners open links) and says
what the link stops; its button, or a mail provider's one-click ``POST`` to the same address (RFC 8058's
``List-Unsubscribe-Post``), stops it (``workflows.notifications.preferences``)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select

from api.database import db_session
from api.ratelimit import limit_public_reads
from api.webapp import words
from models import User
from workflows.errors import InvalidInput
from workflows.notifications import preferences

blp = Blueprint("unsubscribe_page", __name__, template_folder="templates")
blp.before_request(limit_public_reads)
MAX_TOKEN = 2000
POLICY = "; ".join(["default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'",
                    "base-uri 'none'", "frame-ancestors 'none'"])


def _page(status: int = 200, link: preferences.Unsubscribing | None = None, **context: object) -> Response:
    """The page, in the language of the person the email was sent to (the visitor's, for a link not ours)."""
    base = str(current_app.extensions["settings"].public_url).rstrip("/")
    locale = db_session().scalar(select(User.locale).where(User.id == link.user_id)) if link else None
    reader = words.reader_of(request.headers.get("Accept-Language"), request.args.get("lang"), locale)
    described = preferences.named(link.kinds, reader.locale) if link else ""
    response = Response(render_template("unsubscribe.html", base=base, link=link, described=described,
                                        **words.context(reader, request.args), **context),
                        status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"  # one person's page
    response.headers["Referrer-Policy"] = "no-referrer"  # its address holds the link's token
    return response


@blp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe() -> Response:
    token = request.args.get("token", "")[:MAX_TOKEN + 1]
    try:
        if len(token) > MAX_TOKEN:
            raise InvalidInput("this link is not valid or has expired", field="token")
        if request.method == "POST":
            done = preferences.unsubscribe(db_session(), token)
            return _page(link=done, token=token, acted=True)
        return _page(link=preferences.read_link(db_session(), token), token=token, acted=False)
    except InvalidInput:
        return _page(400, refused=True)

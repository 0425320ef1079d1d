"""Libraries of resources: each programme's, kept by its coordinators, and the platform's, kept by administrators and
shared with every programme. A resource is a title, a link (an ``http``/``https`` address, shown and never fetched)
or a short Markdown document (the safe subset of ``workflows.conversations.text``), and a few tags. No file is
uploaded, so no storage server is needed.

Who reads: a programme's library, with the platform's, is read and searched by those taking part in it and those who
run it; the platform's alone by anyone signed in. Searching is PostgreSQL's full-text search over the title and the
document (the ``simple`` dictionary: any language, no stemming), or a part of the title, and a tag; a page at a time,
in title order. A plan's step suggests resources of either library (``workflows.programmes.plans``).

Changes to a programme's library are in its history (``programme.library_changed``); an administrator's change of
the platform's is in the admin audit trail (``library.resource_*``).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, defer

from models import ProgrammeStatus, Resource
from models.programmes.resources import (
    MAX_DOCUMENT,
    MAX_RESOURCE_TITLE,
    MAX_RESOURCE_URL,
    MAX_RESOURCES,
    MAX_TAG,
    MAX_TAGS,
)
from workflows.access import record_admin_action, require_admin
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversations.text import cleaned
from workflows.errors import BusinessRuleViolation, Forbidden, InvalidInput, NotFound
from workflows.events import EventType
from workflows.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from workflows.programmes import access as programme_access
from workflows.programmes.lifecycle import coordinators_of, record_change

MAX_QUERY = 200


def web_address(url: str, max_length: int = MAX_RESOURCE_URL) -> str | None:
    """The address as given (trimmed) if it is an ``http``/``https`` address of a host, by name or number, of at most
    ``max_length`` characters and no space or control character; ``None`` for anything else (``javascript:``,
    ``data:``…). It is shown as a link and never fetched by the service."""
    url = url.strip()
    try:
        parts = urlsplit(url) if len(url) <= max_length else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # a broken address ("http://[::1")
        return None
    if parts is None or parts.scheme not in {"http", "https"} or not host \
            or any(c.isspace() or not c.isprintable() for c in url):
        return None
    return url


def _may_read(db: Session, actor: Actor, programme_id: uuid.UUID) -> None:
    """Those taking part in the programme, and those who run it; 404 for anyone else."""
    if programme_access.takes_part(db, actor, programme_id):
        return
    try:
        programme_access.may_read(db, actor, programme_id)
    except Forbidden:
        raise NotFound("programme not found") from None


def _library(programme_id: uuid.UUID | None) -> ColumnElement[bool]:
    """A programme's resources and the platform's; the platform's alone for none."""
    platform = Resource.programme_id.is_(None)
    return platform if programme_id is None else or_(Resource.programme_id == programme_id, platform)


def search(db: Session, actor: Actor, programme_id: uuid.UUID | None, *, q: str | None = None,
           tag: str | None = None, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page[Resource]:
    """A page of a library in title order: the programme's with the platform's, or the platform's (``None``); those
    whose words match ``q`` (every word, or a part of the title) and that have ``tag``."""
    if programme_id is not None:
        _may_read(db, actor, programme_id)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("a page holds 1 to {max_page_size} items", words={"max_page_size": MAX_PAGE_SIZE})
    query = select(Resource).options(defer(Resource.body)).where(_library(programme_id))  # a list: no documents
    words = " ".join((q or "").split())[:MAX_QUERY]
    if words:
        query = query.where(or_(Resource.search.op("@@")(func.websearch_to_tsquery("simple", words)),
                                Resource.title.icontains(words, autoescape=True)))
    if tag:
        query = query.where(Resource.tags.contains([tag.strip().lower()[:MAX_TAG]]))
    if cursor is not None:
        title, last = _after(cursor)
        query = query.where(or_(Resource.title > title, and_(Resource.title == title, Resource.id > last)))
    rows = list(db.scalars(query.order_by(Resource.title, Resource.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _cursor(rows[-1]) if more else None)


def _cursor(last: Resource) -> str:
    return base64.urlsafe_b64encode(json.dumps([last.title, str(last.id)]).encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[str, uuid.UUID]:
    """The title and id a cursor names; 422 for anything else."""
    try:
        title, last = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(title, str) or len(title) > MAX_RESOURCE_TITLE or "\x00" in title:
            raise ValueError(title)
        title.encode()  # a lone surrogate cannot be sent to the database
        return title, uuid.UUID(str(last))
    except (ValueError, TypeError) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidInput("invalid cursor") from exc


def get(db: Session, actor: Actor, programme_id: uuid.UUID | None, resource_id: uuid.UUID) -> Resource:
    """One resource of a library the actor reads (404 otherwise)."""
    if programme_id is not None:
        _may_read(db, actor, programme_id)
    found = db.scalar(select(Resource).where(Resource.id == resource_id, _library(programme_id)))
    if found is None:
        raise NotFound("resource not found")
    return found


def _tags(given: Sequence[str]) -> list[str]:
    tags = list(dict.fromkeys(" ".join(str(one).split()).lower() for one in given if str(one).strip()))
    if len(tags) > MAX_TAGS or any(len(one) > MAX_TAG for one in tags):
        raise InvalidInput("at most {max_tags} tags of at most {max_tag} characters",
                           words={"max_tags": MAX_TAGS, "max_tag": MAX_TAG}, field="tags")
    return tags


def _content(url: str | None, body: str | None) -> tuple[str | None, str | None]:
    """The link or the document (one of them), checked."""
    kept_body = cleaned(body) if body is not None else ""
    if (url is None) == (not kept_body):
        raise InvalidInput("a resource is a link or a document: give one of them", field="url")
    if url is not None:
        address = web_address(url, MAX_RESOURCE_URL)
        if address is None:
            raise InvalidInput("a link is an http or https address of at most {max_url} characters",
                               words={"max_url": MAX_RESOURCE_URL}, field="url")
        return address, None
    if len(kept_body) > MAX_DOCUMENT:
        raise InvalidInput("a document has at most {max_document} characters",
                           words={"max_document": MAX_DOCUMENT}, field="body")
    return None, kept_body


def _title(title: str) -> str:
    kept = " ".join(title.split())
    if not 1 <= len(kept) <= MAX_RESOURCE_TITLE:
        raise InvalidInput("a title of 1 to {max_title} characters", words={"max_title": MAX_RESOURCE_TITLE},
                           field="title")
    return kept


def _keeper(db: Session, actor: Actor, programme_id: uuid.UUID | None) -> Any:
    """Who keeps the library: a programme's coordinators (and admins), the platform's admins. Returns how a change
    is recorded."""
    if programme_id is None:
        require_admin(actor)
        # Admins changing the platform's library take turns (its bound holds); a programme's keepers turn on its row.
        db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("platform-library", 0))))
        return lambda what, resource: record_admin_action(db, actor, f"library.resource_{what}", "resource",
                                                          resource.id)
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: its library changes no more")

    def recorded(what: str, resource: Resource) -> None:
        record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme.id),
                      event=EventType.PROGRAMME_LIBRARY_CHANGED, changed=[f"resource:{what}", resource.title])
    return recorded


def add(db: Session, actor: Actor, programme_id: uuid.UUID | None, *, title: str, url: str | None = None,
        body: str | None = None, tags: Sequence[str] = ()) -> Resource:
    """A new resource of the programme's library, or the platform's (``None``); :data:`MAX_RESOURCES` a library."""
    recorded = _keeper(db, actor, programme_id)
    held = db.scalar(select(func.count()).select_from(Resource).where(
        Resource.programme_id.is_(None) if programme_id is None else Resource.programme_id == programme_id)) or 0
    if held >= MAX_RESOURCES:
        raise BusinessRuleViolation("a library holds at most {max_resources} resources",
                                    words={"max_resources": MAX_RESOURCES})
    address, document = _content(url, body)
    resource = Resource(id=uuid.uuid4(), programme_id=programme_id, title=_title(title), url=address, body=document,
                        tags=_tags(tags), created_by_user_id=actor.user_id)
    db.add(resource)
    db.flush()
    recorded("added", resource)
    return resource


def _own(db: Session, programme_id: uuid.UUID | None, resource_id: uuid.UUID) -> Resource:
    """A resource of that very library (a programme's keepers never change the platform's), locked."""
    library = Resource.programme_id.is_(None) if programme_id is None else Resource.programme_id == programme_id
    found = db.scalar(select(Resource).where(Resource.id == resource_id, library).with_for_update())
    if found is None:
        raise NotFound("resource not found")
    return found


def change(db: Session, actor: Actor, programme_id: uuid.UUID | None, resource_id: uuid.UUID,
           changes: dict[str, Any]) -> Resource:
    """Change a resource's title, link or document, or tags (those who keep its library)."""
    recorded = _keeper(db, actor, programme_id)
    resource = _own(db, programme_id, resource_id)
    if "title" in changes:
        resource.title = _title(changes["title"])
    if "url" in changes or "body" in changes:
        resource.url, resource.body = _content(changes.get("url"), changes.get("body"))
    if "tags" in changes:
        resource.tags = _tags(changes["tags"])
    resource.updated_at = utcnow()
    db.flush()
    recorded("changed", resource)
    return resource


def remove(db: Session, actor: Actor, programme_id: uuid.UUID | None, resource_id: uuid.UUID) -> None:
    """Take a resource out of its library (those who keep it); steps that suggested it suggest it no more."""
    recorded = _keeper(db, actor, programme_id)
    resource = _own(db, programme_id, resource_id)
    recorded("removed", resource)
    db.delete(resource)
    db.flush()


def titles(db: Session, programme_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The titles of those of ``resource_ids`` the programme's library or the platform's holds."""
    if not resource_ids:
        return {}
    return dict(db.execute(select(Resource.id, Resource.title).where(
        Resource.id.in_(resource_ids), _library(programme_id))).all())

"""A message's words: what is kept (:func:`source`), and how they are shown (:func:`html`, :func:`plain`).

A message is kept as its Markdown source, of a small subset: emphasis, links (``[words](https://…)`` and
``<https://…>``), lists, inline code and code blocks. It is rendered when read, by markdown-it-py with only those
rules on (no raw HTML, no images, no headings, no tables), then cleaned by nh3 (the Rust ``ammonia`` sanitiser) to
the tags those rules make, ``http``, ``https`` and ``mailto`` addresses only, and ``rel="nofollow noopener
noreferrer"`` on every link. A link whose words are not its address is followed by its real address, so no one is
led elsewhere than they read. Emails carry the source as plain text.

The source keeps what people write in any script, with the joiners Arabic, Persian and emoji need (ZWJ, ZWNJ); it
loses NUL and the other control characters but line breaks and tabs, and the direction overrides and embeddings
(U+202A to U+202E, U+2066 to U+2069) that would turn the text around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from models.conversations import MAX_MESSAGE
from workflows.errors import InvalidInput

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# Control characters (C0 but tab and line feed, DEL, C1) and the direction overrides, embeddings and isolates.
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "code", "pre"}


def cleaned(body: str) -> str:
    """The words as kept: line ends as ``\\n``, control and direction-override characters dropped, trimmed."""
    return _DROPPED.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()


def source(body: str) -> str:
    """The words to keep (:func:`cleaned`); 422 when nothing is left or more than ``MAX_MESSAGE`` characters are."""
    kept = cleaned(body)
    if not kept:
        raise InvalidInput("a message has words", field="body")
    if len(kept) > MAX_MESSAGE:
        raise InvalidInput("a message has at most {max_message} characters",
                           words={"max_message": MAX_MESSAGE}, field="body")
    return kept


def _link_close(_renderer: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any) -> str:
    """``</a>``, then the link's real address when its words are something else."""
    opening = next(j for j in range(idx - 1, -1, -1) if tokens[j].type == "link_open")
    href = str(tokens[opening].attrGet("href") or "")
    words = "".join(token.content for token in tokens[opening + 1:idx])
    from markdown_it.common.utils import escapeHtml  # noqa: PLC0415 - see _markdown

    return "</a>" if words in (href, href.removeprefix("mailto:")) else f"</a> ({escapeHtml(href)})"


@cache
def _markdown() -> MarkdownIt:
    """The renderer, built the first time a message is shown: the libraries (4 MB of an API process) load in the
    processes that show messages only."""
    from markdown_it import MarkdownIt  # noqa: PLC0415 - see the docstring

    renderer = MarkdownIt("zero", {"breaks": True}).enable(
        ["emphasis", "link", "autolink", "list", "backticks", "fence", "code", "newline"])
    renderer.add_render_rule("link_close", _link_close)
    return renderer


def html(body: str) -> str:
    """The message as safe HTML."""
    import nh3  # noqa: PLC0415 - see _markdown

    return nh3.clean(_markdown().render(body), tags=_TAGS, attributes={"a": {"href"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer")


def plain(body: str) -> str:
    """The message as an email's plain text: its source, which Markdown keeps readable."""
    return body

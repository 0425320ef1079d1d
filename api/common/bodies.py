"""Request bodies: capped in size, and JSON bodies checked once, before any route reads them.

Werkzeug refuses a ``Content-Length`` over ``MAX_CONTENT_LENGTH`` with a 413, but
a chunked body (the server sets ``wsgi.input_terminated``) it only cuts at the
limit, silently; so one more byte is asked for, and its presence is a 413 too.
Reading the body here makes every route, matched or not, refuse an oversized
one before anything parses it.

A JSON body is then parsed once with limits. Left to itself, Python's parser
recurses on deep nesting (``RecursionError``), refuses numbers past 4300 digits
(``ValueError``), and accepts ``NaN``, ``Infinity`` and lone surrogates
(``"\\ud800"``), which jsonb, psycopg and argon2 refuse later, each with a 500.
The routes (webargs) parse the same bytes again, knowing they are sound.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import http_error
from infra.config import Settings
from workflows.errors import DomainError

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 100

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class BodyRefused(Exception):
    """Why a JSON body is refused, and where in it."""

    def __init__(self, status: int, message: str, path: tuple[str, ...] = (), *,
                 words: Mapping[str, object] | None = None) -> None:
        said = DomainError(message, words=words)
        super().__init__(said.message)
        self.status, self.message, self.path = status, said.message, path
        self.template, self.words = message, words


def _number(literal: str, convert: Callable[[str], Any]) -> Any:
    if len(literal) > MAX_NUMBER_DIGITS:
        raise BodyRefused(400, "numbers may have at most {max_number_digits} digits",
                          words={"max_number_digits": MAX_NUMBER_DIGITS})
    return convert(literal)


def _printable(part: str) -> str:
    return part.encode("utf-8", "backslashreplace").decode("utf-8")


def _where(path: tuple[str, ...]) -> str:
    return ".".join(_printable(part) for part in path) or "the body"


def _check_string(text: str, path: tuple[str, ...]) -> None:
    if _SURROGATE.search(text):
        raise BodyRefused(422, "{where} contains a lone UTF-16 surrogate, which is not a character", path,
                          words={"where": _where(path)})


def check_depth(document: Any) -> None:
    """``BodyRefused`` when containers nest more than ``MAX_DEPTH`` deep; level by level, no recursion."""
    level = [document] if isinstance(document, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise BodyRefused(400, "the JSON body is nested more than {max_depth} levels deep",
                              words={"max_depth": MAX_DEPTH})
        children = (child for node in level for child in (node.values() if isinstance(node, dict) else node))
        level = [child for child in children if isinstance(child, dict | list)]


def _has_bad_value(document: Any) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, float):
            if not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def check_values(document: Any) -> None:
    """``BodyRefused`` naming the first number that is not finite, or string (or key) with a lone
    surrogate. Call after ``check_depth``."""
    if not _has_bad_value(document):
        return
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _check_string(value, path)
        elif isinstance(value, float) and not math.isfinite(value):
            raise BodyRefused(422, "{where} is NaN or Infinity: JSON numbers must be finite", path,
                              words={"where": _where(path)})
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(key, (*path, key))
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(value))


def parse_json(data: bytes) -> Any:
    """The document in ``data``, or ``BodyRefused`` saying what is wrong with it.

    The value-by-value check runs only when the text can hold a bad value: a surrogate arrives
    only as a ``\\uD800``-style escape (UTF-8 cannot encode one), a non-finite number only
    through the float or constant hooks below.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(400, "the body is not UTF-8: {reason} at byte {start}",
                          words={"reason": exc.reason, "start": exc.start}) from None
    suspect = _SURROGATE_ESCAPE.search(text) is not None

    def parse_float(literal: str) -> float:
        nonlocal suspect
        number: float = _number(literal, float)
        suspect = suspect or not math.isfinite(number)
        return number

    def parse_constant(literal: str) -> float:  # NaN, Infinity, -Infinity
        nonlocal suspect
        suspect = True
        return float(literal)

    decoder = json.JSONDecoder(parse_int=lambda literal: _number(literal, int), parse_float=parse_float,
                               parse_constant=parse_constant)
    try:
        document = decoder.decode(text)
    except RecursionError:
        raise BodyRefused(400, "the JSON body is nested more than {max_depth} levels deep",
                          words={"max_depth": MAX_DEPTH}) from None
    except json.JSONDecodeError as exc:
        raise BodyRefused(400, "the body is not valid JSON: {exc}", words={"exc": exc}) from None
    check_depth(document)
    if suspect:
        check_values(document)
    return document


def _errors(refusal: BodyRefused) -> dict[str, Any]:
    errors: Any = [refusal.message]
    for part in reversed(refusal.path):
        errors = {_printable(part): errors}
    return {"json": errors if refusal.path else {"_schema": errors}}


def _read_body() -> None:
    """``before_request``: read the body within the size limit, and check it when it is JSON."""
    limit = request.max_content_length
    try:
        data = request.get_data(cache=True)
        # A streamed (chunked) body is cut at the limit without an error; one byte more means it was longer.
        if request.content_length is None and limit is not None and len(data) >= limit \
                and request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge
    except RequestEntityTooLarge:
        raise http_error(413, "the request body is larger than {limit} bytes", words={"limit": limit}) from None
    if not data or not request.is_json:
        return
    try:
        parse_json(data)
    except BodyRefused as refusal:
        raise http_error(refusal.status, refusal.template, words=refusal.words, errors_=_errors(refusal)) from None


def init_request_bodies(app: Flask, settings: Settings) -> None:
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.before_request(_read_body)

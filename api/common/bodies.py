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
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import http_error
from workflows.config import Settings

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 100

_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyRefused(Exception):
    """Why a JSON body is refused, and where in it."""

    def __init__(self, status: int, message: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.path = status, message, path


def _bounded(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_DIGITS:
            raise BodyRefused(400, f"numbers may have at most {MAX_NUMBER_DIGITS} digits")
        return convert(text)

    return parse


# NaN and Infinity parse to floats (the default), and are refused with where they are.
_DECODER = json.JSONDecoder(parse_int=_bounded(int), parse_float=_bounded(float))


def _printable(part: str) -> str:
    return part.encode("utf-8", "backslashreplace").decode("utf-8")


def _where(path: tuple[str, ...]) -> str:
    return ".".join(_printable(part) for part in path) or "the body"


def _check_string(text: str, path: tuple[str, ...]) -> None:
    if _SURROGATE.search(text):
        raise BodyRefused(422, f"{_where(path)} contains a lone UTF-16 surrogate, which is not a character", path)


def check_document(document: Any) -> None:
    """``BodyRefused`` unless every container is at most ``MAX_DEPTH`` deep, every number finite, every
    string (keys too) free of lone surrogates. Iterative, so no depth can exhaust the stack."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(document, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise BodyRefused(400, f"the JSON body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            _check_string(value, path)
        elif isinstance(value, float) and not math.isfinite(value):
            raise BodyRefused(422, f"{_where(path)} is NaN or Infinity: JSON numbers must be finite", path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(key, (*path, key))
                stack.append((item, depth + 1, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, (*path, str(index))) for index, item in enumerate(value))


def parse_json(data: bytes) -> Any:
    """The document in ``data``, or ``BodyRefused`` saying what is wrong with it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(400, f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        document = _DECODER.decode(text)
    except RecursionError:
        raise BodyRefused(400, f"the JSON body is nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise BodyRefused(400, f"the body is not valid JSON: {exc}") from None
    check_document(document)
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
        raise http_error(413, f"the request body is larger than {limit} bytes") from None
    if not data or not request.is_json:
        return
    try:
        parse_json(data)
    except BodyRefused as refusal:
        raise http_error(refusal.status, refusal.message, errors_=_errors(refusal)) from None


def init_request_bodies(app: Flask, settings: Settings) -> None:
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.before_request(_read_body)

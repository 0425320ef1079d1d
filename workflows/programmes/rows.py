"""The people a coordinator asks to invite, read from a CSV upload or a typed list and checked row by row: each
refused row says why and where it was; the rest go on."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from marshmallow import ValidationError, validate

from models import ParticipantRole
from models.programmes.enrolment import CAPACITY, DEFAULT_CAPACITY, MAX_EMAIL, MAX_INVITEE_NAME
from workflows import wording
from workflows.errors import BusinessRuleViolation

MAX_ROWS = 10_000  # rows of one upload or list
_EMAIL = validate.Email()


# --- rows to invite -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    """One person to invite, as a row of an upload or an entry of a list (``line``: where it was)."""

    line: int
    email: str  # as invited: trimmed, in lower case
    name: str
    role: ParticipantRole
    capacity: int | None
    typed: str = ""  # the address as the file or list gave it (trimmed): what a report quotes


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    email: str | None = None


@dataclass
class InviteReport:
    """What an upload or a list did: who was invited, who was passed over (already invited or taking part), and
    the rows refused, each with its line."""

    invited: list[Invitee] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _clean_name(value: str) -> str:
    """A person's name as given, trimmed; refused with control characters (a line break, a NUL, U+2028)."""
    name = value.strip()
    if not wording.one_line(name):
        raise ValueError("the name holds a control character")
    if len(name) > MAX_INVITEE_NAME:
        raise ValueError(f"the name is longer than {MAX_INVITEE_NAME} characters")
    return name


def _invitee(line: int, email: str, name: str, role: str, capacity: str | int | None) -> Invitee:
    """One row read and checked; ``ValueError`` saying what is wrong."""
    typed = email.strip()
    address = typed.lower()
    if not address:
        raise ValueError("the email is empty")
    if any(unicodedata.category(char).startswith("C") for char in address):
        raise ValueError("the email holds a control character")
    if len(address) > MAX_EMAIL:
        raise ValueError(f"the email is longer than {MAX_EMAIL} characters")
    try:
        _EMAIL(address)
    except ValidationError:
        raise ValueError(f"not an email address: {typed[:80]}") from None
    try:
        part = ParticipantRole(role.strip().lower())
    except ValueError:
        raise ValueError("the role is neither mentor nor mentee") from None
    amount: int | None = None
    if capacity not in (None, ""):
        try:
            amount = int(str(capacity).strip())
        except ValueError:
            raise ValueError("the capacity is not a whole number") from None
        if part == ParticipantRole.MENTEE:
            raise ValueError("a mentee has no capacity")
        if not CAPACITY[0] <= amount <= CAPACITY[1]:
            raise ValueError(f"a mentor's capacity is {CAPACITY[0]} to {CAPACITY[1]} mentees")
    if part == ParticipantRole.MENTOR and amount is None:
        amount = DEFAULT_CAPACITY
    return Invitee(line, address, _clean_name(name), part, amount, typed)


def _separator(first_line: str) -> str:
    """The file's separator: a comma, else the semicolon or tab that spreadsheets of many locales write, whichever
    splits the header into the columns asked for."""
    for separator in (",", ";", "\t"):
        columns = {name.strip().lower() for name in next(csv.reader([first_line], delimiter=separator), [])}
        if {"email", "role"} <= columns:
            return separator
    return ","


def read_csv(data: bytes) -> tuple[list[Invitee], list[RowError]]:
    """The rows of an upload: a header naming ``email`` and ``role`` (and ``name``, ``capacity`` if given, in any
    order and case), then a row per person, separated by commas, semicolons or tabs (the header says which); UTF-8,
    with or without a byte-order mark. Each row is checked on its
    own (its line in the file, counted as a spreadsheet shows it); a file that is no such table at all, or holds
    more than :data:`MAX_ROWS` rows, is refused whole (400), and nothing is written."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BusinessRuleViolation("the file is not UTF-8 text: save it as CSV UTF-8", field="file") from None
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_separator(content.split("\n", 1)[0]))
    rows: list[Invitee] = []
    errors: list[RowError] = []
    try:
        header = next(reader, None)
        columns = [name.strip().lower() for name in header or []]
        missing = [name for name in ("email", "role") if name not in columns]
        if missing:
            raise BusinessRuleViolation("the first line names the columns; it lacks {missing} (name, email, role, "
                                        "capacity, separated by commas, semicolons or tabs)",
                                        words={"missing": ' and '.join(missing)},
                                        field="file")
        where = {name: columns.index(name) for name in ("email", "role", "name", "capacity") if name in columns}
        count = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                raise BusinessRuleViolation("a file holds at most {max_rows} people: split it",
                                            words={"max_rows": MAX_ROWS}, field="file")
            line = reader.line_num
            value = {name: cells[index] if index < len(cells) else "" for name, index in where.items()}
            try:
                rows.append(_invitee(line, value["email"], value.get("name", ""), value["role"],
                                     value.get("capacity")))
            except ValueError as wrong:
                errors.append(RowError(line, str(wrong), value["email"].strip()[:MAX_EMAIL] or None))
    except csv.Error as broken:
        raise BusinessRuleViolation("line {line_num}: not a CSV row ({broken})",
                                    words={"line_num": reader.line_num, "broken": broken}, field="file") from None
    return rows, errors


def read_list(entries: Iterable[dict[str, object]]) -> tuple[list[Invitee], list[RowError]]:
    """The entries of a typed list (each an ``email``, a ``role``, and a ``name`` and ``capacity`` if given),
    numbered from 1 as ``line``."""
    rows: list[Invitee] = []
    errors: list[RowError] = []
    for line, entry in enumerate(entries, start=1):
        email = str(entry.get("email") or "")
        try:
            capacity = entry.get("capacity")
            rows.append(_invitee(line, email, str(entry.get("name") or ""), str(entry.get("role") or ""),
                                 capacity if isinstance(capacity, int | str) else None))
        except ValueError as wrong:
            errors.append(RowError(line, str(wrong), email.strip()[:MAX_EMAIL] or None))
    return rows, errors



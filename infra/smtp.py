"""Sending a notification by email over SMTP (``SMTP_URL``: smtp://user:pass@host:port, smtps://, ?starttls=true)."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

MAX_7BIT_LINE = 998


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message, e.g. ``invite.ics`` as ``text/calendar`` with ``method=REQUEST``."""

    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()


def send_email(smtp_url: str, *, sender: str, to: str, subject: str, body: str, message_id: str,
               timeout: float = 10.0, attachments: Sequence[Attachment] = (), headers: Mapping[str, str] | None = None
               ) -> None:
    url = urlsplit(smtp_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():  # e.g. RFC 8058's List-Unsubscribe and List-Unsubscribe-Post
        message[name] = value
    # A stable Message-ID lets receiving systems drop a copy resent after a crash.
    message["Message-ID"] = f"<{message_id}@mentorship>"
    # ASCII goes as it is (7bit), so a link stays whole on its line in the raw message (and a mail catcher's
    # output); anything else as quoted-printable. RFC 5322 allows lines of 998 characters.
    plain = body.isascii() and all(len(line) <= MAX_7BIT_LINE for line in body.splitlines())
    message.set_content(body, cte="7bit" if plain else "quoted-printable")
    calendars = [one for one in attachments if (one.maintype, one.subtype) == ("text", "calendar")]
    for attachment in attachments:
        if calendars == [attachment]:
            # One calendar object is the message's iMIP part, as calendar services send theirs: an alternative of
            # the text, in the first part of the message (where Outlook looks for one), and a file beside it.
            message.add_alternative(attachment.content, maintype="text", subtype="calendar",
                                    params={"charset": "utf-8", **dict(attachment.params)})
            message.add_attachment(attachment.content, maintype="application", subtype="ics",
                                   filename=attachment.filename)
            continue
        message.add_attachment(attachment.content, maintype=attachment.maintype, subtype=attachment.subtype,
                               filename=attachment.filename, params=dict(attachment.params))
    if headers:
        # Headers of one long address (RFC 8058's) stay whole on their line (RFC 5322 allows 998 characters) rather
        # than being encoded as RFC 2047 words, which no mail client reads as an address. The parts above are
        # encoded already: this changes only how headers are folded.
        message.policy = message.policy.clone(max_line_length=MAX_7BIT_LINE)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname or "localhost", port, timeout=timeout) as client:
        if parse_qs(url.query).get("starttls", ["false"])[0].lower() == "true":
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)

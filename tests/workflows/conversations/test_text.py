"""A message's words: the source kept (controls and direction overrides gone, the joiners of Arabic, Persian and
emoji kept, at most 4,000 characters) and its HTML (the Markdown subset only, every link with its real address,
nothing that runs)."""

from __future__ import annotations

import pytest

from workflows.conversations import text
from workflows.errors import InvalidInput

REL = 'rel="nofollow noopener noreferrer"'


def test_the_source_loses_controls_and_overrides_and_keeps_joiners() -> None:
    kept = text.source("\r\n  Hi\x00 \u202eevil\u2069 \u0645\u0631\u200d\u0628\u200c\u0627 "
                       "\U0001F469\u200d\U0001F4BB\tok\r\n")
    assert kept == "Hi evil \u0645\u0631\u200d\u0628\u200c\u0627 \U0001F469\u200d\U0001F4BB\tok"
    assert len(text.source("a" * 4000)) == 4000
    for bad in ("", " \n\t ", "\x07\u202a", "a" * 4001):
        with pytest.raises(InvalidInput):
            text.source(bad)


@pytest.mark.parametrize(("source", "html"), [
    ("*one* **two** `x<y`", "<p><em>one</em> <strong>two</strong> <code>x&lt;y</code></p>\n"),
    ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
    ("[the docs](https://example.com/d)",
     f'<p><a href="https://example.com/d" {REL}>the docs</a> (https://example.com/d)</p>\n'),
    ("[https://good.example](https://evil.example)",
     f'<p><a href="https://evil.example" {REL}>https://good.example</a> (https://evil.example)</p>\n'),
    ("<https://example.com>", f'<p><a href="https://example.com" {REL}>https://example.com</a></p>\n'),
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
    ("[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
     "<p>[x](javascript:alert(1)) &lt;img src=x onerror=alert(1)&gt;</p>\n"),
    ("# not a heading\n![not an image](https://x/y.png)",
     f'<p># not a heading<br>\n!<a href="https://x/y.png" {REL}>not an image</a> (https://x/y.png)</p>\n'),
])
def test_the_html_has_the_subset_only_and_every_links_real_address(source: str, html: str) -> None:
    assert text.html(source) == html

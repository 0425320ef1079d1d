"""The web app in its reader's language, in Chromium: the browser's before sign-in, the account's after, changed in
the settings; right to left for Arabic."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import PASSWORD, Served, expect, new_page


def test_a_french_reader_reads_the_screens_in_french_until_they_choose_english(web_server: Served,
                                                                             browser: Any) -> None:
    served = web_server
    page = new_page(browser, served, "Europe/Paris", locale="fr-FR")
    page.goto("/#/signup")
    # Before any account: the browser's language, its table fetched once, the page's own words with it.
    expect(page.get_by_role("heading", level=1, name="Créer votre compte")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("#skip-link")).to_have_text("Aller au contenu")
    assert page.title() == "S\u2019inscrire · Mentorat"
    page.get_by_label("Nom affiché").fill("Camille Martin")
    page.get_by_label("E-mail").fill("camille@example.com")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="S\u2019inscrire").click()
    # Signed up with the browser's language: the menu, the settings, and the account's locale are French.
    expect(page.get_by_role("link", name="Mes réservations")).to_be_visible()
    assert served.call("GET", "/me", served.token("camille@example.com"))["locale"] == "fr-FR"
    page.get_by_role("link", name="Paramètres").click()
    account = page.get_by_role("form", name="Compte")
    expect(account.get_by_label("Langue")).to_have_value("fr")
    expect(account.get_by_label("Région")).to_have_value("FR")
    # Regions are named in the reader's language; a language in its own.
    expect(account.get_by_label("Région").locator("option", has_text="Allemagne")).to_have_count(1)
    expect(account.get_by_label("Langue").locator("option", has_text="English")).to_have_count(1)
    # English, in Canada: the page loads again in English, its formats Canada's.
    account.get_by_label("Langue").select_option("en")
    account.get_by_label("Région").select_option("CA")
    account.get_by_role("button", name="Enregistrer le compte").click()
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert served.call("GET", "/me", served.token("camille@example.com"))["locale"] == "en-CA"
    # The next visit starts in the account's language, before anyone is signed in again.
    page.reload()
    expect(page.get_by_role("link", name="My bookings")).to_be_visible()


def test_an_arabic_reader_reads_the_page_right_to_left(web_server: Served, browser: Any) -> None:
    page = new_page(browser, web_server, "Asia/Riyadh", locale="ar-SA")
    page.goto("/#/signin")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    sign_in = "\u062a\u0633\u062c\u064a\u0644 \u0627\u0644\u062f\u062e\u0648\u0644"  # "Sign in"
    expect(page.get_by_role("heading", level=1, name=sign_in)).to_be_visible()
    # Mirrored: the page's header starts at the right edge.
    box = page.locator(".brand").bounding_box()
    assert box is not None and box["x"] > page.viewport_size["width"] / 2, box


def test_a_japanese_reader_reads_the_screens_in_japanese(web_server: Served, browser: Any) -> None:
    page = new_page(browser, web_server, "Asia/Tokyo", locale="ja-JP")
    page.goto("/#/signup")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    create = "\u30a2\u30ab\u30a6\u30f3\u30c8\u3092\u4f5c\u6210"  # "Create your account"
    expect(page.get_by_role("heading", level=1, name=create)).to_be_visible()

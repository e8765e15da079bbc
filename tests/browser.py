"""A real browser for the report tests: Playwright driving the system's Chromium (Debian's
``chromium`` package; ``PLUGDATA_CHROMIUM`` names another binary). Playwright's own browser
downloads are never used. Tests that need it skip, saying why, when Chromium is absent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PLUGDATA_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def chromium_path() -> str:
    """The Chromium binary, or a skip that says how to get one."""
    path = CHROMIUM if os.path.isfile(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: apt-get install chromium, or set PLUGDATA_CHROMIUM"
        )
    return path


@dataclass
class Opened:
    """A page loaded from file://, with what it said on the console and the dialogs it opened."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def visible_cards(self) -> list[dict[str, str]]:
        """The attributes of every shown example card."""
        return self.page.eval_on_selector_all(
            "#language-view .card",
            "cards => cards.filter(c => !c.closest('[hidden]')).map(c => ({...c.dataset}))",
        )


class Browser:
    """One Chromium for a test module; :meth:`open` loads a page in a fresh tab."""

    def __init__(self, context: Any) -> None:
        self.context = context

    @contextmanager
    def open(self, path: Path, *, width: int = 1280, scheme: str = "light") -> Iterator[Opened]:
        page = self.context.new_page()
        opened = Opened(page)
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        try:
            yield opened
        finally:
            page.close()


@contextmanager
def chromium(user_data: Path) -> Iterator[Browser]:
    """Chromium with a fresh profile, headless, no network services of its own."""
    executable = chromium_path()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="pip install playwright (dev extra)"
    )
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(user_data), executable_path=executable, args=ARGS, headless=True
        )
        try:
            yield Browser(context)
        finally:
            context.close()


def check_rates(opened: Opened, report: dict[str, Any]) -> None:
    """The rates table shows report.json's figures, per language and overall."""
    page = opened.page
    for lang, stats in [*report["languages"].items(), ("overall", report["overall"])]:

        def cell(key: str, lang: str = lang) -> str:
            return page.inner_text(f'#rates td[data-lang="{lang}"][data-key="{key}"]')

        assert cell("n") == str(stats["n"]) and cell("errors") == str(stats["errors"])
        for outcome, n in stats["strict"].items():
            assert cell(f"strict.{outcome}") == str(n)
        for outcome, n in stats["lenient"].items():
            assert cell(f"lenient.{outcome}") == str(n)
        if stats["win_rate_adjusted"] is not None:
            assert cell("win_rate_adjusted") == f"{100 * stats['win_rate_adjusted']:.1f}%"


def search(opened: Opened, text: str) -> list[dict[str, str]]:
    """Type ``text`` into the search box; the cards left shown."""
    opened.page.fill("#search", text)
    return opened.visible_cards()


def assert_safe(opened: Opened) -> None:
    """The hostile strings are on the page as text, and nothing they hold ran or loaded."""
    page = opened.page
    body = page.inner_text("body")
    for text in HOSTILE:
        assert text in body, f"{text!r} is not shown as text"
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2  # the data block and the page's own script
    assert not opened.dialogs, opened.dialogs
    assert not opened.errors, opened.errors
    assert all(url.startswith("file://") for url in opened.requests), opened.requests


def assert_readable(browser: Browser, path: Path) -> None:
    """Dark mode changes the colours (light text on a dark page); a phone-wide window needs no
    sideways scrolling of the page itself."""
    with browser.open(path, scheme="dark") as opened:
        style = "getComputedStyle(document.body)"
        colours = opened.page.evaluate(f"() => [{style}.backgroundColor, {style}.color]")
        back, text = (_luminance(c) for c in colours)
        assert back < 0.2 < 0.6 < text, colours
        assert not opened.errors, opened.errors
    with browser.open(path, width=390) as opened:
        wide = opened.page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 392, f"the page is {wide}px wide in a 390px window"


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

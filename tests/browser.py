"""Headless Chromium (Debian's `chromium`) driven by Playwright, for tests of the HTML report and the
dashboard. Skips loudly, naming what is missing, only when no browser can be started."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if Path(p).exists()), None)


@contextlib.contextmanager
def browser_page(viewport=(1280, 900)):
    """Yield (page, console_errors): a fresh page and the list its console errors and page errors go to."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("BROWSER TESTS SKIPPED: Python package 'playwright' is not installed "
                    "(fix: pip install -e '.[test]')")
    exe = chromium_path()
    if exe is None:
        pytest.skip("BROWSER TESTS SKIPPED: no 'chromium' binary (fix: apt-get install -y chromium; .ci/run does it)")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure means no browser here: say why, loudly
            pytest.skip(f"BROWSER TESTS SKIPPED: chromium at {exe} would not start: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            yield page, errors
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

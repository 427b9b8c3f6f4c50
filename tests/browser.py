"""Headless Debian Chromium driven by Playwright, with the network cut off but for 127.0.0.1.

Never `playwright install`: the browser is Debian's /usr/bin/chromium (see DESIGN.md).
Every request that leaves 127.0.0.1 is recorded and aborted, so a test can assert there were none.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_PREFIXES = ("http://127.0.0.1", "data:", "blob:", "about:")
#: A known, harmless page error of Jupyter Book 1: sphinx-thebe declares this constant twice.
KNOWN_PAGE_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


@dataclass
class Traffic:
    external: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.page_errors if not any(k in e for k in KNOWN_PAGE_ERRORS)]


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None or __import__("os").path.exists(CHROMIUM)


@contextlib.contextmanager
def offline_page(viewport=(1300, 900)):
    """Yield (page, traffic): a fresh browser context whose only network is 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    traffic = Traffic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                      locale="fr-FR")

        def route(r):
            url = r.request.url
            if url.startswith(LOCAL_PREFIXES):
                r.continue_()
            else:
                traffic.external.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda e: traffic.page_errors.append(str(e)))
        page.on("response", lambda r: traffic.failed_local.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("favicon.ico") else None)
        try:
            yield page, traffic
        finally:
            context.close()
            browser.close()

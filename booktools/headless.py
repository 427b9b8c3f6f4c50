"""Headless Debian Chromium with every host but 127.0.0.1 cut off, and a local server for a folder.

Used by the browser tests and by `make bench` (the JupyterLite start-up times), so that both open
pages the same way. Never `playwright install`: the browser is Debian's /usr/bin/chromium (see
DESIGN.md). Every request that leaves 127.0.0.1 is recorded and aborted, so a caller can assert
(or report) that there were none. Book-side only: not for the labs (no threads in Pyodide).
"""


from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
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
    return shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the output readable
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser closing a connection early is not an error of the page


@contextlib.contextmanager
def serve_with(handler, path: str = ""):
    """Run an HTTP request handler on 127.0.0.1 (a free port) for the time of a `with` block;
    yields the base URL followed by `path`."""
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_folder(folder):
    """Serve a folder on 127.0.0.1 (a free port) for the time of a `with` block; yields the base URL."""
    with serve_with(functools.partial(_QuietHandler, directory=str(folder))) as url:
        yield url


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

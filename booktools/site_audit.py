"""Every page of the built site in Chromium, as a visitor gets it: weight, missing files, axe, phones.

Used by the tests (tests/test_site_browser.py) and by `make bench` (the weights), so that both
measure the same way:

- the site is served under its path on GitHub Pages (`/data-et-quartiers/…`, from `html.baseurl`) by
  a local server that answers like GitHub Pages does: text compressed with gzip, `404.html` with
  status 404 for an unknown address. "Transferred" is what crosses the network: compressed bodies
  and headers, as Chromium counts them (`request.sizes()`); "uncompressed" is the files' own size,
  what a laptop serving the site with `python -m http.server` in a training room sends;
- one browser, one tab: each page is loaded once, then checked in light mode, in dark mode and at
  390 px wide (a phone) without loading it again;
- pages are found in the built site (`site_publish.site_pages`): pages other parts of the book add
  are checked without a list to update. Folders of many pages hold generated pages of one kind
  (the catalogue's 46 sheets, the atlas's 1,400): see `audit_plan` for the sample taken there,
  evenly spread over the folder sorted by name, first and last included.
- dark mode changes colours only: axe runs every WCAG 2.1 A/AA rule in light mode and the rules
  that measure colours in dark mode, on the same page, with the theme's transitions switched off.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dataquartiers.indicators import format_fr

from . import REPO_DIR
from .headless import CHROMIUM, CHROMIUM_ARGS, KNOWN_PAGE_ERRORS, LOCAL_PREFIXES, serve_with
from .site_publish import site_pages

AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: A folder of more than SAMPLE_ABOVE pages holds generated pages of one kind (catalogue sheets,
#: atlas sheets): SAMPLE of them are checked there. The accessibility statement gives both numbers.
SAMPLE_ABOVE, SAMPLE = 20, 12
DESKTOP = (1300, 900)
PHONE_WIDTH = 390
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml",
                    "application/xml", "application/ld+json")


def base_path(config_file: Path = REPO_DIR / "_config.yml") -> str:
    """The path of the site's address in `_config.yml` (html.baseurl): `/data-et-quartiers/`."""
    import yaml

    base = (yaml.safe_load(config_file.read_text(encoding="utf-8")).get("html") or {}).get("baseurl") or "/"
    path = urlsplit(base).path or "/"
    return path if path.endswith("/") else path + "/"


def _spread(items: list[str], k: int) -> list[str]:
    """k items evenly spread over a sorted list, first and last included."""
    if len(items) <= k:
        return list(items)
    step = (len(items) - 1) / (k - 1)
    return sorted({items[round(i * step)] for i in range(k)})


def audit_plan(site: Path) -> dict[str, bool]:
    """Page -> whether axe runs on it (always, today: a page loaded is checked whole). Every page
    of the site, except in a folder of more than SAMPLE_ABOVE pages: SAMPLE of them there, evenly
    spread. Such folders hold generated pages of one kind (catalogue sheets, the atlas…)."""
    by_folder: dict[str, list[str]] = {}
    for rel in site_pages(site):
        by_folder.setdefault(rel.rpartition("/")[0], []).append(rel)
    plan = {}
    for _folder, pages in sorted(by_folder.items()):
        plan.update(dict.fromkeys(pages if len(pages) <= SAMPLE_ABOVE else _spread(pages, SAMPLE), True))
    return plan


def pages_to_check(site: Path) -> list[str]:
    return list(audit_plan(site))


# --- a server that answers like GitHub Pages --------------------------------------------------

class _PagesHandler(http.server.BaseHTTPRequestHandler):
    site: Path
    prefix: str

    def log_message(self, *args):
        pass

    def _file(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        if not path.startswith(self.prefix):
            return None
        target = (self.site / path[len(self.prefix):]).resolve()
        if self.site.resolve() not in (target, *target.parents):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def do_GET(self):  # noqa: N802 (http.server's name)
        target = self._file()
        status = 200
        if target is None:
            status, target = 404, self.site / "404.html"
        body = target.read_bytes() if target.is_file() else b"404"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        headers = {"Content-Type": kind + ("; charset=utf-8" if kind.startswith("text/") else "")}
        if kind.startswith(COMPRESSED_TYPES) and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(body))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve_like_github_pages(site: Path, prefix: str = "/"):
    """Serve `site` under `prefix` on 127.0.0.1; yields the site's address (ending with '/')."""
    handler = type("Handler", (_PagesHandler,), {"site": Path(site), "prefix": prefix})
    with serve_with(handler, prefix) as url:
        yield url


# --- one page in Chromium ----------------------------------------------------------------------

@dataclass
class PageReport:
    path: str
    status: int = 0
    transferred: int = 0  # bytes over the network (compressed bodies + headers)
    uncompressed: int = 0  # the files' own size
    requests: int = 0
    failed: list[str] = field(default_factory=list)  # "404 /_static/…" (the page's own status apart)
    external: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    axe: dict[str, list[dict]] = field(default_factory=dict)  # mode -> violations
    sideways_at_phone: int = 0  # px the page scrolls sideways at 390 px (0: none)
    seconds: float = 0.0


AXE_RUN = """async ([kind, values]) => {
  const r = await axe.run(document, {runOnly: {type: kind, values: values}, iframes: false,
                                     resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').slice(0, 160))}));
}"""

SET_MODE = """(mode) => {
  document.documentElement.dataset.theme = mode;
  document.documentElement.dataset.mode = mode;
}"""

#: Colours are measured once a mode is set, not halfway through the theme's colour transitions.
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; animation: none !important; }"

#: Dark mode changes colours only: there the rules that measure colours are run (the others ran
#: in light mode on the same page).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]

#: Widgets are drawn by the widget manager after the page's load event; maps (iframes) are part of
#: the load event already.
HAS_WIDGETS = "() => !!document.querySelector('.jupyter-widgets, .widget-area, script[type*=widget]')"

#: Every widget view of the page drawn, and its slider handles named (booktools/vendor.py's a11y.js).
WIDGETS_READY = """() => {
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const drawn = document.querySelectorAll('.jupyter-widgets').length;
  const unnamed = Array.from(document.querySelectorAll('.jupyter-widgets .noUi-handle'))
    .some(e => !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'));
  return drawn >= views && !unnamed;
}"""

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class SiteBrowser:
    """One Chromium, one tab, network limited to 127.0.0.1: `check(path)` returns a PageReport."""

    def __init__(self, base_url: str, site: Path, *, axe: bool = True, modes=("light", "dark"),
                 phone: bool = True):
        self.base_url, self.site = base_url, Path(site)
        self.with_axe, self.modes, self.phone = axe, modes, phone
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        p = self._stack.enter_context(sync_playwright())
        self.browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self._stack.callback(self.browser.close)
        self.context = self.browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
                                                locale="fr-FR")
        self._current: PageReport | None = None
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self._in_flight = 0
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._finished)
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", lambda e: self._current and self._current.page_errors.append(str(e)))
        self.axe_source = AXE.read_text(encoding="utf-8") if self.with_axe else ""
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def _route(self, route):
        url = route.request.url
        if url.startswith(LOCAL_PREFIXES):
            route.continue_()
        else:
            if self._current:
                self._current.external.append(url)
            route.abort()

    def _started(self, request):
        self._in_flight += 1

    def _failed(self, request):
        self._in_flight -= 1
        if self._current:
            self._current.failed.append(f"échec {request.url} ({request.failure})")

    def _finished(self, request):
        self._in_flight -= 1
        report = self._current
        if report is None:
            return
        response = request.response()
        if response is None:
            return
        try:
            sizes = request.sizes()
        except Exception:  # the page was left before the browser could say (next page loading)
            return
        report.requests += 1
        report.transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if request.url.startswith(self.base_url) and response.status < 400:
            served = self.site / unquote(urlsplit(request.url).path)[len(urlsplit(self.base_url).path):]
            if served.is_dir():
                served = served / "index.html"
            if served.is_file():
                report.uncompressed += served.stat().st_size
        is_page = request.url.split("#")[0] == self._page_url
        if response.status >= 400 and not is_page:
            report.failed.append(f"{response.status} {request.url.replace(self.base_url, '/')}")
        if is_page:
            report.status = response.status

    def _axe(self, mode: str) -> list[dict]:
        if not self.page.evaluate("() => typeof axe !== 'undefined'"):
            self.page.add_script_tag(content=self.axe_source)
            self.page.add_style_tag(content=NO_TRANSITIONS)
        if mode == "light":
            return self.page.evaluate(AXE_RUN, ["tag", WCAG_AA])
        return self.page.evaluate(AXE_RUN, ["rule", COLOUR_RULES])

    def check(self, path: str, *, with_axe: bool = True) -> PageReport:
        """Load a page once; check it in each mode, then at phone width.

        The report keeps collecting the page's requests until the next page is loaded (fonts and
        widget files may come late); `finish()` waits for the last page's."""
        start = time.perf_counter()
        self.finish()
        report = self._current = PageReport(path)
        self._page_url = self.base_url + path
        page = self.page
        page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
        page.mouse.move(0, 0)  # no hover state left over from the previous page
        page.goto(self._page_url, wait_until="load")
        self._idle()
        if page.evaluate(HAS_WIDGETS):
            page.wait_for_timeout(600)  # the widget manager draws after load
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            try:  # on a busy machine the widgets take longer: axe must see them as a visitor does
                page.wait_for_function(WIDGETS_READY, timeout=15_000, polling=200)
            except PlaywrightTimeout:
                pass  # axe then reports what is missing (an unnamed control, say)
        if self.with_axe and with_axe:
            for mode in self.modes:
                page.evaluate(SET_MODE, mode)
                page.wait_for_timeout(50)
                report.axe[mode] = self._axe(mode)
            page.evaluate(SET_MODE, "light")
        if self.phone:
            # The width is read after the page is laid out again at 390 px (reading scrollWidth
            # forces it); the site's debounced resize handler only adds or removes scroll hints
            # above tables already framed at load (dq-site.js), which changes no width.
            page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
            report.sideways_at_phone = page.evaluate(SIDEWAYS)
        report.seconds = time.perf_counter() - start
        return report

    def _idle(self, timeout_s: float = 10.0) -> None:
        """Wait until no request of the page is in flight for 0.2 s (at most timeout_s)."""
        quiet, deadline = 0, time.perf_counter() + timeout_s
        while quiet < 2 and time.perf_counter() < deadline:
            self.page.wait_for_timeout(100)
            quiet = quiet + 1 if self._in_flight <= 0 else 0

    def finish(self) -> None:
        """Close the current page's report: wait for its last requests."""
        report = self._current
        if report is not None:
            self._idle()
            report.page_errors = [e for e in report.page_errors if not any(k in e for k in KNOWN_PAGE_ERRORS)]
        self._current = None


def audit_site(site: Path, paths: list[str] | None = None, **options) -> list[PageReport]:
    """Check `paths` (default: audit_plan) of a built site; see SiteBrowser for `options`."""
    plan = audit_plan(site) if paths is None else dict.fromkeys(paths, True)
    with serve_like_github_pages(site, base_path()) as url, SiteBrowser(url, site, **options) as browser:
        reports = [browser.check(p, with_axe=axe) for p, axe in plan.items()]
        browser.finish()
        return reports


def weigh(site: Path, paths: list[str]) -> list[PageReport]:
    """Transferred and uncompressed bytes of pages (no axe, no phone): for `make bench`."""
    return audit_site(site, paths, axe=False, phone=False)



# --- make bench ----------------------------------------------------------------------------------

def site_figures(site: Path = REPO_DIR / "_build" / "html") -> list[tuple[str, str, str]]:
    """Weight of a text page and of every lab page, the search index, a search: for `make bench`."""
    import gzip as _gzip

    site = Path(site)
    if not (site / "searchindex.js").exists():
        return [("poids des pages", "non mesurés", "lancez d'abord `make site`")]
    labs = [rel for rel in site_pages(site) if rel.startswith("labs/") and (REPO_DIR / rel).with_suffix(".ipynb").exists()]
    rows = []
    for report in weigh(site, ["intro.html", "chapters/methode.html", *labs]):
        target = "≤ 3 Mo" if report.path.startswith("labs/") else "≤ 600 ko"
        rows.append((f"page {report.path} : transférée (gzip)", format_fr(report.transferred / 1000, 0, "ko"), target))
        rows.append((f"page {report.path} : décompressée", format_fr(report.uncompressed / 1000, 0, "ko"), ""))
    index = (site / "searchindex.js").read_bytes()
    rows.append(("index de recherche (searchindex.js)", format_fr(len(index) / 1000, 0, "ko"), "3,9 Mo avant le tri des mots (issue 15)"))
    rows.append(("index de recherche, gzip", format_fr(len(_gzip.compress(index)) / 1000, 0, "ko"), ""))
    search = weigh(site, ["search.html?q=fragilite"])[0]
    rows.append(("recherche « fragilite » : tout ce qu'elle télécharge (gzip)",
                 format_fr(search.transferred / 1000, 0, "ko"), ""))
    return rows

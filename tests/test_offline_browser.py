"""The first-steps lab in headless Chromium with the network cut: the map and the slider show."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from browser import chromium_available, offline_page
from conftest import REPO

pytestmark = pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (.ci/run installs it)")
ARTIFACTS = REPO / "_build" / "test-artifacts"


def _distinct_colours(png: bytes, sample_every: int = 97) -> int:
    """How many distinct RGB colours a PNG screenshot holds (a blank box has one or two)."""
    from io import BytesIO

    data = BytesIO(png)
    assert data.read(8) == b"\x89PNG\r\n\x1a\n"
    width = height = 0
    idat = b""
    while True:
        length, kind = struct.unpack(">I4s", data.read(8))
        chunk = data.read(length)
        data.read(4)
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour_type in (2, 6), "unexpected PNG format"
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    colours = set()
    # Sample raw bytes of unfiltered-or-not rows: distinct byte triples are enough to tell a
    # drawn map from an empty box (filters keep uniform areas uniform).
    for y in range(0, height, 7):
        row = raw[y * stride + 1:(y + 1) * stride]
        for x in range(0, width, sample_every // 10 or 1):
            colours.add(row[x * channels:x * channels + 3])
    return len(colours)


def test_first_steps_lab_offline(site, site_url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with offline_page() as (page, traffic):
        page.goto(f"{site_url}/labs/prise-en-main.html", wait_until="networkidle")
        # The map: Leaflet draws the IRIS and QPV polygons as SVG paths, with no tile.
        map_frame = next(f for f in page.frames if f.url == "about:srcdoc")
        map_frame.wait_for_selector("path.leaflet-interactive", state="attached", timeout=20000)
        paths = map_frame.locator("path.leaflet-interactive").count()
        assert paths >= 400, f"only {paths} polygons drawn (393 IRIS + 41 QPV of Marseille expected)"
        assert map_frame.locator(".leaflet-tile").count() == 0, "a tile layer was drawn"
        assert "Taux de pauvreté" in map_frame.locator(".dq-legend").inner_text()
        # The slider: the widget manager (served by the site) renders it from the saved state.
        page.wait_for_selector(".widget-slider", timeout=20000)
        slider = page.locator(".widget-slider").first
        assert "Seuil" in slider.inner_text()
        page.locator("figure.dq-map").first.scroll_into_view_if_needed()
        shot = page.screenshot(path=str(ARTIFACTS / "prise-en-main-carte.png"))
        slider.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "prise-en-main-curseur.png"))
        # Keyboard: the slider handle takes focus and the arrow key moves it.
        handle = page.locator(".widget-slider .noUi-handle, .widget-slider [role=slider]").first
        before = handle.get_attribute("aria-valuenow")
        handle.focus()
        page.keyboard.press("ArrowRight")
        after = handle.get_attribute("aria-valuenow")
    assert _distinct_colours(shot) > 8, "the screenshot of the map is blank"
    assert traffic.external == [], f"requests left 127.0.0.1: {traffic.external}"
    assert traffic.failed_local == [], f"local files missing: {traffic.failed_local}"
    assert traffic.unexpected_errors() == [], traffic.unexpected_errors()
    assert before is not None and after is not None and float(after) > float(before), \
        f"the slider does not move with the keyboard ({before} → {after})"


@pytest.mark.parametrize("path", ["intro.html", "chapters/glossaire.html", "labs/index.html"])
def test_pages_load_offline_with_no_error(site, site_url, path):
    with offline_page() as (page, traffic):
        page.goto(f"{site_url}/{path}", wait_until="networkidle")
        assert page.locator("h1").count() >= 1
        assert page.evaluate("document.documentElement.lang") == "fr"
    assert traffic.external == [], f"{path}: requests left 127.0.0.1: {traffic.external}"
    assert traffic.failed_local == [], f"{path}: {traffic.failed_local}"
    assert traffic.unexpected_errors() == [], traffic.unexpected_errors()

"""The browser tests' Chromium and local server: those of the package (dataquartiers/headless.py)."""

from dataquartiers.headless import (CHROMIUM, CHROMIUM_ARGS, KNOWN_PAGE_ERRORS, LOCAL_PREFIXES,  # noqa: F401
                                    Traffic, chromium_available, offline_page, serve_folder)

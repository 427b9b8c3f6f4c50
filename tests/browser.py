"""The browser tests' Chromium and local server: those of the package (booktools/headless.py)."""

from booktools.headless import (CHROMIUM, CHROMIUM_ARGS, KNOWN_PAGE_ERRORS, LOCAL_PREFIXES,  # noqa: F401
                                    Traffic, chromium_available, offline_page, serve_folder)

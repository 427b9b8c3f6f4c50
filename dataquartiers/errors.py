"""The library's own error: a French sentence in a lab, not a Python traceback.

Its own module (standard library only) so that every module of the library can raise it, the
ethics charter included, which must not import pandas (it runs in the build and in Pyodide).
"""

from __future__ import annotations


class DonneesError(Exception):
    """An error of the labs' library: its message is a French sentence saying what to do.

    In a notebook, IPython shows `_render_traceback_()` instead of the Python traceback: the
    trainee reads a French heading and the message, not the library's internals.
    """

    label = "Erreur"

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[1;31m{self.label}\x1b[0m", *(str(self).splitlines() or [""])]

"""Running the book's notebooks headless (nbclient), the same way in the build, the tests and the bench.

**Why runs hung.** A lab whose widget cell ends by writing into an `ipywidgets.Output` (the five
labs do: `with sortie: print(...)` then `widgets.VBox([...])`) sometimes waited until the cell
timeout (300 s in the build), then finished normally. Cause, traced on this machine: nbclient
0.11 stands in for the browser's Output widget (`nbclient/output_widget.py`) and sends each
captured output back to the kernel as a `comm_msg` on the shell channel, through
`jupyter_client.Session.send`, which writes through a *synchronous* shadow of the asyncio shell
socket. That write makes ZMQ process the socket's pending commands — among them the one that
announces the `execute_reply` the kernel sent a few milliseconds earlier — behind pyzmq's asyncio
layer, so the coroutine polling for that reply is never woken (the socket's file descriptor is
edge-triggered: its one signal was consumed). The poll notices the reply only when its timeout
fires. Evidence: the kernel's reply is dated ~10 ms after the request, the socket shows POLLIN
with its descriptor not readable, and without the stand-in's sends no cell hangs (nbclient
issue #312 reports the same symptom, unexplained).

**The fix** (`OutputWidget` below): the stand-in sends through the asyncio socket itself, whose
pyzmq layer re-checks for incoming messages after each send it makes. `use_fixed_output_widget()`
puts it in nbclient for the whole process: the build's clients are created by myst-nb and
jupyter-cache, which take no client options, so it is installed by the Sphinx extension; the
tests and the bench run their notebooks through `run_notebook()`, which installs it too.

**Reusing the build's runs.** myst-nb keeps each executed notebook in jupyter-cache, keyed by its
code cells only: after a change of the labs' library or data the build would show stale outputs.
`forget_stale_executions()` (before the build reads anything) empties that cache when the digest
of what a lab's run depends on (`LAB_INPUTS`) changed, and records the new digest; a cached run is
then "the same run" exactly when its notebook matches and the digest is current
(`cached_execution()`), which is how the tests reuse the build's runs instead of repeating them.
"""

from __future__ import annotations

import ast
import copy
import time
from pathlib import Path

import nbformat
import nbclient.client
import nbclient.output_widget
import zmq.asyncio
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbclient.jsonutil import json_clean

from . import REPO_DIR, buildcache, notebooks

#: What the output of a lab's run depends on besides its own code cells (jupyter-cache hashes
#: those): the labs' library, the data package, the pinned packages.
LAB_INPUTS = ("dataquartiers", "datasets", "requirements.txt")
#: Written beside jupyter-cache's database: the digest of LAB_INPUTS its records were made with.
DIGEST_FILE = "dataquartiers-inputs.sha256"
#: Per cell, in the tests and the bench. The slowest cell of a lab takes ~5 s on a quiet machine,
#: ~30 s with several builds beside it; a cell still running after this is stuck, not slow.
CELL_TIMEOUT = 120


class OutputWidget(nbclient.output_widget.OutputWidget):
    """nbclient's Output-widget stand-in, sending on the asyncio shell socket (see the module doc)."""

    def _publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        socket = self.kernel_client.shell_channel.socket
        if not isinstance(socket, zmq.asyncio.Socket):  # a blocking client has no asyncio layer to miss
            return super()._publish_msg(msg_type, data, metadata, buffers, **keys)
        session = self.kernel_client.session
        content = json_clean(dict(data={} if data is None else data, comm_id=self.comm_id, **keys))
        msg = session.msg(msg_type, content=content, parent=self.parent_header,
                          metadata={} if metadata is None else metadata)
        socket.send_multipart(session.serialize(msg) + list(buffers or []))


def use_fixed_output_widget() -> None:
    """Every NotebookClient created from now on in this process uses the fixed stand-in.

    NotebookClient builds its widget registry from the name `OutputWidget` of `nbclient.client`
    when it is created; that name is the one place a client created by another library can be
    reached.
    """
    nbclient.client.OutputWidget = OutputWidget


class NotebookRunError(RuntimeError):
    """A notebook could not be run to the end in time; the message says which cell, in French."""


def run_notebook(nb, cwd: Path, *, where: str, timeout: int = CELL_TIMEOUT) -> dict[int, float]:
    """Execute `nb` in place with the kernel's working folder `cwd`, as the build does; return
    the seconds each code cell took, by cell index.

    A cell that raises gives nbclient's CellExecutionError (what the lab says is in it); a cell
    still running after `timeout` seconds gives NotebookRunError naming the notebook (`where`)
    and the cell.
    """
    use_fixed_output_widget()
    started: dict[int, float] = {}
    seconds: dict[int, float] = {}
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
        on_cell_execute=lambda cell, cell_index: started.update({cell_index: time.perf_counter()}),
        on_cell_executed=lambda cell, cell_index, execute_reply: seconds.update(
            {cell_index: time.perf_counter() - started[cell_index]}))
    try:
        client.execute()
    except CellTimeoutError:
        index = max(started, default=None)
        first_line = (nb.cells[index].source.strip().splitlines() or [""])[0][:80] if index is not None else ""
        raise NotebookRunError(
            f"{where} : la cellule {index + 1 if index is not None else '?'} (« {first_line} ») n'a pas fini "
            f"en {timeout} s ; l'exécution est arrêtée. Une cellule de lab dure quelques secondes : "
            "cherchez une boucle sans fin ou une attente (input(), réseau).") from None
    return seconds


# --- parameters -----------------------------------------------------------------------------

def parameter_defaults(nb) -> dict:
    """The literal values the `parameters` cell gives (`NAME = value` lines)."""
    defaults = {}
    try:
        tree = ast.parse(notebooks.parameters(nb))
    except SyntaxError:
        return defaults
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                defaults[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return defaults


def with_parameters(nb, parameters: dict):
    """A copy of the notebook whose `parameters` cell ends with `NAME = value` lines, as a
    participant adapting the lab would write them (the cell must exist when parameters are given)."""
    nb = copy.deepcopy(nb)
    if parameters:
        cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
        if cell is None:
            raise ValueError("ce notebook n'a pas de cellule marquée « parameters »")
        cell.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    return nb


# --- the build's cache of runs -------------------------------------------------------------

def lab_inputs_digest(repo: Path = REPO_DIR) -> str:
    repo = Path(repo)
    return buildcache.inputs_digest([repo / p for p in LAB_INPUTS], repo)


def forget_stale_executions(cache_dir: Path, repo: Path = REPO_DIR) -> bool:
    """Empty jupyter-cache's folder when LAB_INPUTS changed since its runs; True if it did."""
    cache_dir = Path(cache_dir)
    digest = lab_inputs_digest(repo)
    record = cache_dir / DIGEST_FILE
    stale = record.exists() and record.read_text(encoding="utf-8").strip() != digest
    if stale or (cache_dir.exists() and not record.exists()):
        from jupyter_cache import get_cache

        get_cache(cache_dir).clear_cache()
        stale = True
    cache_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(digest + "\n", encoding="utf-8")
    return stale


def cached_execution(notebook: Path, cache_dir: Path, repo: Path = REPO_DIR):
    """The build's executed copy of `notebook` if it is the same run: same code cells, same
    LAB_INPUTS (else None)."""
    cache_dir = Path(cache_dir)
    record = cache_dir / DIGEST_FILE
    if not (cache_dir / "global.db").exists() or not record.exists():
        return None
    if record.read_text(encoding="utf-8").strip() != lab_inputs_digest(repo):
        return None
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(cache_dir).merge_match_into_notebook(nbformat.read(notebook, as_version=4))
    except KeyError:
        return None
    return merged


def _before_reading(app) -> None:
    if app.config.nb_execution_mode != "cache":
        return
    cache_dir = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if forget_stale_executions(cache_dir, Path(app.srcdir)):
        from sphinx.util import logging

        logging.getLogger(__name__).info("la bibliothèque des labs, les données ou les paquets ont changé : "
                                         "les notebooks sont ré-exécutés")


def setup_sphinx(app) -> None:
    use_fixed_output_widget()
    app.connect("builder-inited", _before_reading)

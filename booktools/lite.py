"""The labs in the browser: JupyterLite built into the book by jupyterlite-sphinx.

What this module adds to what jupyterlite-sphinx does on its own:

- **Contents**: every `labs/*.ipynb` (cleaned for the browser: no outputs, a first cell saying
  that changes are not saved; MyST and links adapted by `lab_copies.py` so that JupyterLab renders
  them like the book) and the data package they read (`datasets/datapackage.json` and its files),
  laid out as in the repository, so `load()` finds `../datasets` from `labs/`.
- **Our JupyterLab plugins** (`lite_extension/`): a French notice when Python cannot start, the
  « Repartir de la version publiée » action; the checkpoint indicator is disabled (with notebooks
  in memory, its "last checkpoint 18 minutes ago" was the date of the build, not of the trainee).
- **Packages without `%pip`**: the package `dataquartiers` is built here as a pure wheel, and so
  are the pure-Python wheels the Pyodide lock lacks (folium, branca, ipywidgets, comm, fetched by
  `make setup`). They are registered in a copy of the Pyodide lock file served by the site, so
  `import dataquartiers` in a cell loads them, with their dependencies, like any Pyodide package.
  In that copy the official packages point to the official CDN, pinned to the kernel's Pyodide
  version (the offline kit rewrites this, see `offline_kit.py`).
- **Fresh notebooks**: in-memory storage, so a trainee never gets a stale copy after an update;
  the French language pack by default. Both come from `jupyter_lite_config.json`.
- **Lab pages**: a "Lancer dans le navigateur" button and a "Télécharger le lab (zip)" button
  (the zip is made by `bundles.py`).
- **No external stylesheet on book pages**: jupyterlite-sphinx adds a Google Fonts stylesheet to
  every page for its own buttons; it is dropped (the fallback font is fine).

Every build starts the JupyterLite build from scratch in a folder of its own output directory: a
stale `.jupyterlite.doit.db` silently skips tasks, and several builds may run at once.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataquartiers import PACKAGE_DIR, data
from dataquartiers.cli import ArgumentParser
from dataquartiers.fetch import sha256_of

from . import REPO_DIR, TOOLS_DIR, notebooks
from .lab_copies import BookLinks, Context, adapt_notebook
from .buildcache import build_cache_dir, inputs_digest, is_unchanged, remember
from .notebooks import lab_notebooks
from .wheels import build_wheel, normalise, wheel_info
CONFIG_FILE_NAME = "jupyter_lite_config.json"
CONFIG_SECTION = "DataQuartiersLite"
#: Where jupyterlite-sphinx writes the JupyterLite site, inside the book's HTML folder.
LITE_DIR = "lite"
#: Our additions inside the JupyterLite site: the wheels and the lock file that lists them.
LITE_PACKAGES_DIR = "static/dataquartiers"
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
#: The npm package `pyodide` (the core only: no package wheels), installed by `make setup`.
PYODIDE_NPM_DIR = REPO_DIR / "node_modules" / "pyodide"
#: The pure wheels fetched from PyPI by `make setup` (`python -m booktools.lite fetch-wheels`).
WHEELS_CACHE = Path(sys.prefix) / "share" / "dataquartiers" / "browser-wheels"
KERNEL_SCHEMA = (Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite"
                 / "pyodide-kernel-extension" / "static" / "schema" / "kernel.v0.schema.json")
BROWSER_NOTICE_TAG = "dq-browser-notice"
#: Our JupyterLab plugins (a prebuilt federated extension, see its remoteEntry.js).
LITE_EXTENSION_DIR = TOOLS_DIR / "lite_extension"

BROWSER_NOTICE = (
    "**Lab ouvert dans le navigateur.** Python tourne ici dans votre navigateur (Pyodide), sans "
    "serveur : la première exécution télécharge Python et les bibliothèques, comptez une à deux "
    "minutes.\n\n"
    "⚠️ **Vos modifications ne sont pas enregistrées — téléchargez le notebook** (menu "
    "*Fichier → Télécharger*) pour garder votre travail. À chaque ouverture, le lab repart de sa "
    "version publiée ; pour y revenir en cours de route, cliquez sur **Repartir de la version "
    "publiée** dans la barre d'outils."
)


class LiteError(RuntimeError):
    """A configuration or input problem, with a message that names the file and what is expected."""


# --- configuration -------------------------------------------------------------------------

@dataclass
class LiteConfig:
    path: Path
    interface: str
    browser_wheels: list[str]
    depends_not_loaded: list[str]
    lock_depends_removed: dict[str, list[str]]
    page_config: dict
    offline_kit: dict


def load_config(path: Path | None = None) -> LiteConfig:
    """Our section of `jupyter_lite_config.json`, checked."""
    path = Path(path or REPO_DIR / CONFIG_FILE_NAME)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LiteError(f"{path} : introuvable (la configuration JupyterLite du livre)") from None
    except json.JSONDecodeError as err:
        raise LiteError(f"{path} : JSON invalide (ligne {err.lineno}, colonne {err.colno}) : {err.msg}") from None
    section = data.get(CONFIG_SECTION)
    if not isinstance(section, dict):
        raise LiteError(f"{path} : la section « {CONFIG_SECTION} » manque (un objet JSON est attendu)")
    expected = {"interface": str, "browser_wheels": list, "depends_not_loaded": list,
                "lock_depends_removed": dict, "page_config": dict, "offline_kit": dict}
    for key, kind in expected.items():
        if not isinstance(section.get(key), kind):
            raise LiteError(f"{path} : le champ « {CONFIG_SECTION}.{key} » doit être "
                            f"{'une chaîne' if kind is str else 'une liste' if kind is list else 'un objet'} JSON")
    if section["interface"] not in ("notebooks", "lab"):
        raise LiteError(f"{path} : le champ « {CONFIG_SECTION}.interface » vaut « {section['interface']} » ; "
                        "attendu : « notebooks » ou « lab »")
    kit = section["offline_kit"]
    for key in ("pyodide_url", "digest_api", "kernel_packages"):
        if not kit.get(key):
            raise LiteError(f"{path} : le champ « {CONFIG_SECTION}.offline_kit.{key} » manque")
    if kit.get("sha256") is not None and not re.fullmatch(r"[0-9a-f]{64}", str(kit["sha256"])):
        raise LiteError(f"{path} : le champ « {CONFIG_SECTION}.offline_kit.sha256 » doit être 64 chiffres "
                        f"hexadécimaux en minuscules ou null, pas « {kit['sha256']} »")
    return LiteConfig(path, section["interface"], section["browser_wheels"], section["depends_not_loaded"],
                      section["lock_depends_removed"], section["page_config"], kit)


def launch_url(notebook: Path | str, interface: str = "notebooks", repo: Path = REPO_DIR) -> str:
    """The lab's address inside the JupyterLite site, relative to the site's `lite/` folder."""
    rel = Path(notebook).resolve().relative_to(Path(repo).resolve()).as_posix()
    return f"{interface}/index.html?path={rel}"


# --- the pinned Pyodide ----------------------------------------------------------------------

def kernel_pyodide_url(schema: Path = KERNEL_SCHEMA) -> str:
    """The CDN address of pyodide.mjs that the installed kernel expects (its settings default)."""
    try:
        return json.loads(schema.read_text(encoding="utf-8"))["properties"]["pyodideUrl"]["default"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError) as err:
        raise LiteError(f"{schema} : impossible de lire l'adresse de Pyodide du noyau ({err}) ; "
                        "jupyterlite-pyodide-kernel est-il installé (make setup) ?") from None


def pyodide_version(url: str) -> str:
    match = re.search(r"/v(\d+\.\d+\.\d+)/", url)
    if not match:
        raise LiteError(f"aucune version de Pyodide dans « {url} »")
    return match.group(1)


def npm_pyodide_lock(npm_dir: Path = PYODIDE_NPM_DIR, expected_version: str | None = None) -> dict:
    """The lock file of the npm `pyodide` package, checked to be the kernel's Pyodide version."""
    package = npm_dir / "package.json"
    if not package.exists():
        raise LiteError(f"{npm_dir} est absent : lancez `make setup` (npm ci installe le `pyodide` fixé)")
    version = json.loads(package.read_text(encoding="utf-8"))["version"]
    if expected_version and version != expected_version:
        raise LiteError(f"{package} : pyodide {version}, mais le noyau JupyterLite attend {expected_version} ; "
                        "fixez `pyodide` à la version du noyau dans package.json")
    return json.loads((npm_dir / "pyodide-lock.json").read_text(encoding="utf-8"))


# --- pure wheels for the browser -----------------------------------------------------------

def installed_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        raise LiteError(f"« {name} » ({CONFIG_FILE_NAME}, browser_wheels) n'est pas installé dans "
                        f"{sys.prefix} : le navigateur reçoit la version avec laquelle le livre tourne, installez-la d'abord") from None


def fetch_browser_wheels(config: LiteConfig | None = None, dest: Path = WHEELS_CACHE) -> list[Path]:
    """Download the pure wheels of `browser_wheels` (the versions installed here) with pip.

    Run by `make setup`, when the package registries are reachable; the build only reads them.
    """
    config = config or load_config()
    dest.mkdir(parents=True, exist_ok=True)
    wanted = [f"{name}=={installed_version(name)}" for name in config.browser_wheels]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--only-binary=:all:", "--python-version", "3.14", "-d", str(dest), *wanted],
                   check=True)
    return browser_wheels(config, dest)


def browser_wheels(config: LiteConfig | None = None, folder: Path = WHEELS_CACHE) -> list[Path]:
    """The cached pure wheels of `browser_wheels`, at the versions installed here."""
    config = config or load_config()
    found = []
    for name in config.browser_wheels:
        version = installed_version(name)
        stem = re.sub(r"[-_.]+", "_", name).lower()
        matches = [w for w in folder.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")
                   and w.name.endswith("-none-any.whl")]
        if not matches:
            raise LiteError(f"aucune roue pur Python de {name} {version} dans {folder} : lancez `make setup` "
                            "(python -m booktools.lite fetch-wheels) quand les registres sont joignables")
        found.append(matches[0])
    return found


# --- the lock file the browser reads -----------------------------------------------------------


def extend_lock(base_lock: dict, wheels: list[Path], config: LiteConfig, *,
                official_base_url: str | None = None) -> dict:
    """A copy of a Pyodide lock with our pure wheels registered, so that imports load them.

    Edited as JSON, not with `pyodide-lock` (pinned, used by the Pyodide 0.27 test harness): its
    model requires `info.version`, which the lock of Pyodide 314 no longer has, so it refuses to
    read it (pyodide-lock 0.2, which might, needs Python 3.12; the book runs 3.11).

    `official_base_url`: prefix the official packages' relative file names with it (the CDN), so
    that the lock can be served from the site while the official wheels still come from the CDN.
    Our wheels' file names stay relative to the lock file.
    """
    lock = copy.deepcopy(base_lock)
    packages = lock["packages"]
    if official_base_url:
        for entry in packages.values():
            if not re.match(r"^[a-z]+://", entry["file_name"]):
                entry["file_name"] = official_base_url.rstrip("/") + "/" + entry["file_name"]
    for pkg, removed in config.lock_depends_removed.items():
        if pkg in packages:
            packages[pkg]["depends"] = [d for d in packages[pkg]["depends"] if d not in removed]
    infos = [wheel_info(w) for w in wheels]
    ours = {normalise(i.name) for i in infos}
    known = {normalise(k) for k in packages} | ours
    skipped = {normalise(n) for n in config.depends_not_loaded}
    for info in infos:
        key = normalise(info.name)
        depends = []
        for dep in info.requires:
            if dep in skipped:
                continue
            if dep not in known:
                raise LiteError(
                    f"{info.path.name} : demande « {dep} », qui n'est ni dans le lock de Pyodide ni dans "
                    f"{CONFIG_FILE_NAME} ({CONFIG_SECTION}.browser_wheels ou .depends_not_loaded)")
            depends.append(dep)
        packages[key] = {
            "name": info.name, "version": info.version, "file_name": info.path.name,
            "install_dir": "site", "sha256": sha256_of(info.path), "package_type": "package",
            "imports": info.imports, "depends": sorted(depends), "unvendored_tests": False,
        }
    return lock


# --- notebooks for the browser ------------------------------------------------------------------

def browser_notebook(nb: dict, ctx: Context | None = None) -> dict:
    """The lab as the browser opens it: no outputs, a first cell with the notice and, with a
    `Context`, its MyST and links adapted for JupyterLab (`lab_copies.adapt_notebook`)."""
    nb = copy.deepcopy(nb)
    if ctx is not None:
        nb = adapt_notebook(nb, ctx, title=notebooks.title(nb, Path(ctx.docname).name))
    cells = [c for c in nb["cells"] if BROWSER_NOTICE_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notice = {"cell_type": "markdown", "id": "dq-browser-notice",
              "metadata": {"tags": [BROWSER_NOTICE_TAG], "editable": False, "deletable": False},
              "source": BROWSER_NOTICE}
    nb["cells"] = [notice] + cells
    nb.setdefault("metadata", {})["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                                   "language": "python"}
    nb["nbformat_minor"] = max(nb.get("nbformat_minor", 5), 5)
    return nb


#: Besides the labs, what the browser carries: the ethics self-assessment notebook and its charter.
SELF_ASSESSMENT_FILES = ("ethics-charter/auto-evaluation.ipynb", "ethics-charter/charter.yml")


def stage_contents(dest: Path, repo: Path = REPO_DIR, links: BookLinks | None = None) -> list[Path]:
    """Lay out the JupyterLite contents as in the repository: `labs/*.ipynb` (cleaned and adapted
    for the browser) and `datasets/` with the resources the labs read (the union of their bundles).

    `links`: the built book's addresses (`BookLinks.of_site`), to adapt MyST and links; without
    it (tests of the layout alone) the notebooks keep their Markdown as it is.
    """
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    (dest / "labs").mkdir(parents=True)
    carried: set[str] = set()
    package = data.package(Path(repo) / "datasets")
    known = {r.get("name") for r in package["resources"]}
    labs = lab_notebooks(repo)
    for nb_path in labs:
        needs = notebooks.lab_data_needs(nb_path, repo, package)
        if needs.problems:
            raise LiteError("\n".join(needs.problems))
        carried |= set(needs.carried(known))
    resources = [r for r in package["resources"] if r["name"] in carried]
    in_contents = ({f"labs/{p.name}" for p in labs} | {f"datasets/{r['path']}" for r in resources}
                   | {"datasets/datapackage.json"} | set(SELF_ASSESSMENT_FILES))

    def write_notebook(src: Path, rel: str) -> None:
        nb = json.loads(src.read_text(encoding="utf-8"))
        ctx = None
        if links is not None:
            ctx = Context(links, rel.removesuffix(".ipynb"), in_contents, notebook_dir=str(Path(rel).parent),
                          where=rel)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(browser_notebook(nb, ctx), ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
        written.append(target)

    for nb_path in labs:
        write_notebook(nb_path, f"labs/{nb_path.name}")
    # The trainees' self-assessment tool runs in the browser too, beside the charter it reads.
    for extra in SELF_ASSESSMENT_FILES:
        if extra.endswith(".ipynb"):
            write_notebook(repo / extra, extra)
        else:
            target = dest / extra
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / extra, target)
            written.append(target)
    datasets = repo / "datasets"
    (dest / "datasets").mkdir()
    target = dest / "datasets" / "datapackage.json"
    target.write_text(json.dumps(notebooks.reduced_package(package, sorted(carried)), ensure_ascii=False, indent=2) + "\n",
                      encoding="utf-8")
    written.append(target)
    for res in resources:
        src = datasets / res["path"]
        if not src.exists():
            raise LiteError(f"{datasets / 'datapackage.json'} : ressource « {res['name']} » : fichier {res['path']} introuvable")
        target = dest / "datasets" / res["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        written.append(target)
    return written


def stage_extension(lite_dir: Path, config_file: Path) -> Path:
    """Put our JupyterLab plugins in a folder of the lite dir and write the build's configuration:
    the book's `jupyter_lite_config.json` plus that folder as an extra place for prebuilt
    extensions (`FederatedExtensionAddon.extra_labextensions_path`), which `jupyter lite build`
    copies and lists in jupyter-lite.json. Returns the configuration file to build with."""
    package = json.loads((LITE_EXTENSION_DIR / "package.json").read_text(encoding="utf-8"))
    folder = lite_dir / "dq-extensions"
    target = folder / package["name"]
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(LITE_EXTENSION_DIR, target)
    build_config = json.loads(config_file.read_text(encoding="utf-8"))
    build_config.setdefault("FederatedExtensionAddon", {})["extra_labextensions_path"] = [str(folder)]
    written = lite_dir / CONFIG_FILE_NAME
    written.write_text(json.dumps(build_config, ensure_ascii=False, indent=2), encoding="utf-8")
    return written


# --- the Sphinx side -------------------------------------------------------------------------

def _work_dir(app) -> Path:
    """A JupyterLite working folder of this build only (beside its html output)."""
    return Path(app.outdir).parent / "jupyterlite"


def _configure(app, config) -> None:
    """Point jupyterlite-sphinx at a fresh folder of this build (before its own config-inited)."""
    work = _work_dir(app)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    config.jupyterlite_dir = str(work)
    config.jupyterlite_content_dir = str(work / "contents")
    config.jupyterlite_config = str(Path(app.srcdir) / CONFIG_FILE_NAME)
    config.jupyterlite_bind_ipynb_suffix = False


def page_config(config: LiteConfig, pyodide_url: str, lock_url: str | None) -> dict:
    """The jupyter-lite.json of the book's JupyterLite site."""
    page = copy.deepcopy(config.page_config)
    data = page.setdefault("jupyter-config-data", {})
    kernel = data.setdefault("litePluginSettings", {}).setdefault(KERNEL_PLUGIN, {})
    kernel["pyodideUrl"] = pyodide_url
    if lock_url:
        kernel.setdefault("loadPyodideOptions", {})["lockFileURL"] = lock_url
    return page


def _prepare_lite(app, exception) -> None:
    """Right before jupyterlite-sphinx runs `jupyter lite build`: contents and page config."""
    if exception is not None or app.builder.format != "html":
        return
    config = load_config(Path(app.srcdir) / CONFIG_FILE_NAME)
    work = _work_dir(app)
    links = BookLinks.of_build(app)
    stage_contents(Path(app.config.jupyterlite_content_dir), Path(app.srcdir), links)
    built_config = str(stage_extension(work, Path(app.srcdir) / CONFIG_FILE_NAME))
    app.config.jupyterlite_config = app.env.config.jupyterlite_config = built_config
    (work / "jupyter-lite.json").write_text(json.dumps(
        page_config(config, kernel_pyodide_url(), f"./{LITE_PACKAGES_DIR}/pyodide-lock.json"),
        ensure_ascii=False, indent=2), encoding="utf-8")
    for stale in (Path(app.srcdir) / ".jupyterlite.doit.db", work / ".jupyterlite.doit.db"):
        stale.unlink(missing_ok=True)


def _lite_inputs(app) -> str:
    work = _work_dir(app)
    srcdir = Path(app.srcdir)
    return inputs_digest([work / "contents", work / "jupyter-lite.json", work / "dq-extensions",
                          srcdir / CONFIG_FILE_NAME, srcdir / "requirements.txt", srcdir / "pyproject.toml",
                          PACKAGE_DIR], srcdir)


def _lite_build_if_changed(app, exception) -> None:
    """jupyterlite-sphinx's build step, run only when its inputs changed since the last build."""
    from jupyterlite_sphinx.jupyterlite_sphinx import jupyterlite_build

    app.dq_lite_skipped = False
    if exception is None and app.builder.format == "html":
        digest = _lite_inputs(app)
        if (Path(app.outdir) / LITE_DIR / "jupyter-lite.json").exists() and \
                is_unchanged(build_cache_dir(app), "jupyterlite", digest):
            app.dq_lite_skipped = True
            return
    jupyterlite_build(app, exception)


def _take_over_lite_build(app, config) -> None:
    """Replace jupyterlite-sphinx's build-finished listener by `_lite_build_if_changed`."""
    from jupyterlite_sphinx.jupyterlite_sphinx import jupyterlite_build

    for listener in list(app.events.listeners.get("build-finished", [])):
        if listener.handler is jupyterlite_build:
            app.disconnect(listener.id)
            app.connect("build-finished", _lite_build_if_changed, priority=listener.priority)


def write_browser_packages(lite_dir: Path, config: LiteConfig | None = None) -> Path:
    """Put our wheels and the extended lock (official packages from the CDN) into the lite site."""
    config = config or load_config()
    pyodide_url = kernel_pyodide_url()
    version = pyodide_version(pyodide_url)
    target = lite_dir / LITE_PACKAGES_DIR
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    wheels = [build_wheel(target)]
    for wheel in browser_wheels(config):
        shutil.copy2(wheel, target / wheel.name)
        wheels.append(target / wheel.name)
    lock = extend_lock(npm_pyodide_lock(expected_version=version), wheels, config,
                       official_base_url=pyodide_url.rsplit("/", 1)[0])
    (target / "pyodide-lock.json").write_text(json.dumps(lock, indent=1), encoding="utf-8")
    return target


def _finish_lite(app, exception) -> None:
    """After `jupyter lite build`: add our packages, check the result."""
    if exception is not None or app.builder.format != "html":
        return
    lite_dir = Path(app.outdir) / LITE_DIR
    if not (lite_dir / "jupyter-lite.json").exists():
        from sphinx.errors import ExtensionError

        raise ExtensionError(f"{lite_dir}/jupyter-lite.json is missing: the JupyterLite build did not run")
    if getattr(app, "dq_lite_skipped", False):
        return  # same inputs as the last build: its packages are in place
    write_browser_packages(lite_dir)
    Path(app.srcdir, ".jupyterlite.doit.db").unlink(missing_ok=True)
    remember(build_cache_dir(app), "jupyterlite", _lite_inputs(app))


#: The buttons of a lab page (Jinja2, autoescaped: the addresses are built from file names).
LAB_ACTIONS = """<div class="dq-lab-actions admonition tip">
<p class="admonition-title">{{ title }}</p>
<p><a class="btn btn-primary dq-lab-launch" href="{{ launch }}" target="_blank" rel="noopener">Lancer dans le navigateur</a>
{%- if bundle %}
<a class="btn btn-outline-primary dq-lab-bundle" href="{{ bundle }}" download>Télécharger le lab (zip)</a>
{%- endif %}</p>
{%- if bundle %}
<p><strong>Dans le navigateur</strong>, Python tourne sur votre ordinateur, sans compte ni installation ;
le premier lancement prend une à deux minutes. Vos modifications ne sont pas enregistrées — téléchargez
le notebook pour les garder. <strong>Le zip</strong> contient le notebook, les données qu'il lit,
un <code>requirements.txt</code> et un mode d'emploi (LISEZMOI.md) pour le faire tourner sur votre ordinateur
ou l'adapter à votre territoire.</p>
{%- else %}
<p>Python tourne dans votre navigateur, sans compte ni installation ; le premier lancement prend une à
deux minutes. Vos réponses ne sont pas enregistrées : exportez la grille (Markdown ou YAML) avant de fermer.</p>
{%- endif %}
</div>"""


def _actions(launch: str, bundle: str | None) -> str:
    from jinja2 import Environment

    template = Environment(autoescape=True).from_string(LAB_ACTIONS)
    return template.render(title="Utiliser ce lab" if bundle else "Utiliser cet outil", launch=launch, bundle=bundle)


def lab_actions_html(docname: str, config: LiteConfig) -> str:
    up = "../" * docname.count("/")
    stem = docname.rsplit("/", 1)[-1]
    return _actions(f"{up}{LITE_DIR}/{config.interface}/index.html?path={docname}.ipynb", f"{up}bundles/{stem}.zip")


def _insert_lab_actions(app, doctree, docname: str) -> None:
    """Put the two buttons right under the title of every lab page (the launch button alone on
    the self-assessment tool's page)."""
    from docutils import nodes

    config = load_config(Path(app.srcdir) / CONFIG_FILE_NAME)
    if f"{docname}.ipynb" in SELF_ASSESSMENT_FILES:
        up = "../" * docname.count("/")
        html = _actions(f"{up}{LITE_DIR}/{config.interface}/index.html?path={docname}.ipynb", None)
    elif (docname.startswith("labs/") and docname.count("/") == 1
          and (Path(app.srcdir) / f"{docname}.ipynb").exists()):
        html = lab_actions_html(docname, config)
    else:
        return
    raw = nodes.raw("", html, format="html")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        doctree.insert(0, raw)
    else:
        section.insert(1, raw)


def _drop_external_stylesheets(app, pagename, templatename, context, doctree) -> None:
    """jupyterlite-sphinx adds a Google Fonts stylesheet to every page: book pages load nothing
    from another host (training rooms have no network)."""
    css = context.get("css_files")
    if css:
        css[:] = [c for c in css if not re.match(r"^(https?:)?//", str(getattr(c, "filename", c)))]


def setup_sphinx(app) -> None:
    # before jupyterlite-sphinx's own config-inited handler (priority 500)
    app.connect("config-inited", _configure, priority=400)
    # every extension is set up by then, jupyterlite-sphinx included
    app.connect("config-inited", _take_over_lite_build)
    app.connect("doctree-resolved", _insert_lab_actions)
    app.connect("html-page-context", _drop_external_stylesheets)
    # around jupyterlite-sphinx's build-finished handler (priority 500), which runs the lite build
    app.connect("build-finished", _prepare_lite, priority=450)
    app.connect("build-finished", _finish_lite, priority=600)


# --- measures (make bench) -----------------------------------------------------------------

def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def site_sizes(html_dir: Path) -> dict[str, int]:
    """Bytes of the built site, of its JupyterLite part and of the lab bundles."""
    html_dir = Path(html_dir)
    return {"site": folder_size(html_dir), "lite": folder_size(html_dir / LITE_DIR),
            "bundles": folder_size(html_dir / "bundles") if (html_dir / "bundles").exists() else 0}


UI_READY_JS = ("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
               " && window.jupyterapp.shell.currentWidget.sessionContext")
KERNEL_IDLE_JS = ("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                  " const sc = w && w.sessionContext;"
                  " const k = sc && sc.session && sc.session.kernel;"
                  " return !!k && k.status === 'idle' && sc.kernelDisplayStatus === 'idle'; }")

@dataclass
class StartupTimes:
    ui_ready_s: float | None = None
    kernel_idle_s: float | None = None
    external_requests: list[str] = field(default_factory=list)
    error: str | None = None


def measure_startup(site_root: Path, notebook: str, *, kernel_timeout_s: float = 0,
                    ui_timeout_s: float = 120) -> StartupTimes:
    """Serve `site_root` on 127.0.0.1, open `lite/<interface>/index.html?path=<notebook>` in headless
    Chromium with every other host cut off; time page load → UI ready (and → kernel idle when
    `kernel_timeout_s` > 0). Requests leaving 127.0.0.1 are recorded and aborted.
    """
    from .headless import offline_page, serve_folder

    config = load_config()
    result = StartupTimes()
    with serve_folder(site_root) as base, offline_page() as (page, traffic):
        start = time.perf_counter()
        page.goto(f"{base}/{LITE_DIR}/{config.interface}/index.html?path={notebook}")
        try:
            page.wait_for_function(UI_READY_JS, timeout=ui_timeout_s * 1000)
            result.ui_ready_s = round(time.perf_counter() - start, 2)
            if kernel_timeout_s:
                page.wait_for_function(KERNEL_IDLE_JS, timeout=kernel_timeout_s * 1000, polling=200)
                result.kernel_idle_s = round(time.perf_counter() - start, 2)
        except Exception as err:  # a timeout is a measure too: report it, do not crash the bench
            result.error = str(err).splitlines()[0][:300]
    result.external_requests = list(traffic.external)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.lite",
                            description="Les labs dans le navigateur (JupyterLite) : outils de mise en place.")
    sub = parser.add_subparsers(dest="commande", required=True)
    sub.add_parser("fetch-wheels", help="télécharger les roues pur Python des labs pour le navigateur (make setup)")
    wheel = sub.add_parser("wheel", help="construire la roue du paquet dataquartiers")
    wheel.add_argument("dossier", type=Path, help="où écrire la roue")
    args = parser.parse_args(argv)
    if args.commande == "fetch-wheels":
        try:
            wheels = fetch_browser_wheels()
        except (LiteError, subprocess.CalledProcessError) as err:
            print(f"booktools.lite : {err}", file=sys.stderr)
            return 1
        print("roues pour le navigateur :", ", ".join(w.name for w in wheels))
        return 0
    print(build_wheel(args.dossier))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The full national files, when a computer is online: downloaded from their official URLs,
checked, cached (`pooch`).

`datasets/` ships small subsets, enough for every lab and readable offline. A participant who
adapts a lab to another territory needs the national file it was cut from: `fetch(name)` returns
the path of the cached file, `read_national(name)` a DataFrame (or a GeoDataFrame). Nothing here
runs at build or test time against the real servers (the tests serve a small fixture from a local
HTTP server), and the labs never call it: it is the "back home" path.

Hashes. Every download is checked against a SHA-256 before it enters the cache; a file whose
hash does not match is deleted, never kept. The official files below could not be downloaded
from the machine that wrote this module, so their hashes are not known yet (`sha256=None`), and
some of them are replaced in place by their producer (data.gouv.fr's stable link to the QPV 2024
contours follows the latest version). For those, the first download is trusted and its SHA-256
is recorded beside the cached file (`<file>.sha256`, "trust on first use"); every later use checks
the cached file against it, so a truncated or altered cache is detected and downloaded again.
Once a maintainer has downloaded a file, they should copy the printed hash into NATIONAL_FILES:
then the very first download is checked too.

One entry is a query, not a file: the IRIS contours come from IGN's WFS service (Géoplateforme),
asked for the communes of one territory (`{codes}` in its URL). Its answer cannot have a pinned
hash; it is trusted on first download and recorded like the others (`dataquartiers.territory`).
None of these addresses could be reached from the machines that wrote this module: they are the
producers' published ones, checked by nothing here but the tests' local copies.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .data import DonneesError


@dataclass(frozen=True)
class NationalFile:
    """One national file: where its producer publishes it and how to read it."""

    title: str
    url: str
    page: str
    sha256: str | None  # None: not known yet (see the module's docstring)
    member: str  # regular expression matching the useful member of the zip archive
    kind: str = "csv"  # "csv" or "geojson"
    sep: str = ";"
    codes: tuple[str, ...] = field(default=())  # columns kept as text (leading zeros)


NATIONAL_FILES: dict[str, NationalFile] = {
    "filosofi_iris_2018": NationalFile(
        title="INSEE, Filosofi 2018, revenus disponibles par IRIS (France)",
        url="https://www.insee.fr/fr/statistiques/fichier/5055909/BASE_TD_FILO_DISP_IRIS_2018.zip",
        page="https://www.insee.fr/fr/statistiques/5055909",
        sha256=None, member=r"BASE_TD_FILO_DISP_IRIS_2018\.csv$", codes=("IRIS",)),
    "filosofi_iris_2019": NationalFile(
        title="INSEE, Filosofi 2019, revenus disponibles par IRIS (France)",
        url="https://www.insee.fr/fr/statistiques/fichier/6049648/BASE_TD_FILO_DISP_IRIS_2019.zip",
        page="https://www.insee.fr/fr/statistiques/6049648",
        sha256=None, member=r"BASE_TD_FILO_DISP_IRIS_2019\.csv$", codes=("IRIS",)),
    "rp2022_iris_population": NationalFile(
        title="INSEE, recensement 2022, évolution et structure de la population par IRIS",
        url="https://www.insee.fr/fr/statistiques/fichier/8647014/base-ic-evol-struct-pop-2022_csv.zip",
        page="https://www.insee.fr/fr/statistiques/8647014",
        sha256=None, member=r"^base-ic-evol-struct-pop-2022\.csv$",
        codes=("IRIS", "REG", "DEP", "UU2020", "COM", "TRIRIS", "GRD_QUART", "MODIF_IRIS", "LAB_IRIS")),
    "rp2022_iris_couples_familles_menages": NationalFile(
        title="INSEE, recensement 2022, couples, familles, ménages par IRIS",
        url="https://www.insee.fr/fr/statistiques/fichier/8647008/base-ic-couples-familles-menages-2022_csv.zip",
        page="https://www.insee.fr/fr/statistiques/8647008",
        sha256=None, member=r"^base-ic-couples-familles-menages-2022\.csv$",
        codes=("IRIS", "REG", "DEP", "UU2020", "COM", "TRIRIS", "GRD_QUART", "MODIF_IRIS", "LAB_IRIS")),
    "iris_contours": NationalFile(
        title="IGN, Contours…IRIS (service WFS de la Géoplateforme), IRIS des communes du territoire",
        url=("https://data.geopf.fr/wfs/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature"
             "&TYPENAMES=STATISTICALUNITS.IRIS:contours_iris&OUTPUTFORMAT=application/json&SRSNAME=EPSG:4326"
             "&CQL_FILTER=code_insee%20IN%20({codes})"),
        page="https://geoservices.ign.fr/contoursiris",
        sha256=None, member=r"\.geojson$", kind="geojson"),
    "qpv2024_contours": NationalFile(
        title="ANCT, contours des quartiers prioritaires 2024 (France entière, WGS84)",
        url="https://www.data.gouv.fr/api/1/datasets/r/942d4ee8-8142-4556-8ea1-335537ce1119",
        page="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
        sha256=None, member=r"QP2024_France_Hexagonale_Outre_Mer_WGS84\.geojson$", kind="geojson"),
}


class FetchError(DonneesError, RuntimeError):
    """A national file could not be fetched; the message says why and what to do."""

    label = "Téléchargement impossible"


def cache_dir() -> Path:
    """Where downloads are kept: `DQ_CACHE`, or the user's cache folder (`~/.cache/dataquartiers`)."""
    if os.environ.get("DQ_CACHE"):
        return Path(os.environ["DQ_CACHE"])
    import pooch

    return Path(pooch.os_cache("dataquartiers"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str) -> NationalFile:
    if name not in NATIONAL_FILES:
        raise FetchError(f"Fichier national inconnu : « {name} ». Fichiers connus : {', '.join(sorted(NATIONAL_FILES))}.")
    return NATIONAL_FILES[name]


def fetch(name: str, *, url: str | None = None, sha256: str | None = None, cache: Path | None = None,
          timeout: float = 60, fname: str | None = None) -> Path:
    """Download a national file once (then reuse it from the cache); return its path.

    `url` and `sha256` override the registry (the tests point them at a local server); `fname`
    names the cached file (a query's answer is cached under the territory's name).
    Raises FetchError when the server cannot be reached, answers with an error, or sends a file
    whose SHA-256 is not the expected one (that file is deleted: nothing unchecked is cached).
    """
    try:
        import pooch
        import requests
    except ImportError:  # in the browser (Pyodide): no download library, no network socket
        raise FetchError("Télécharger un fichier national demande un ordinateur connecté à Internet, avec le paquet "
                         "pooch : ce n'est pas possible dans le navigateur. Les labs utilisent les données livrées "
                         "dans datasets/.") from None

    entry = _entry(name)
    url = url or entry.url
    expected = sha256 if sha256 is not None else entry.sha256
    cache = Path(cache) if cache else cache_dir()
    fname = fname or f"{name}{'.zip' if not url.endswith(('.geojson', '.csv')) else Path(url).suffix}"
    target = cache / fname
    record = cache / (fname + ".sha256")
    trusted = expected or (record.read_text(encoding="utf-8").strip() if record.exists() else None)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch says in English what this function says in French
    try:
        path = Path(pooch.retrieve(url, known_hash=f"sha256:{trusted}" if trusted else None, fname=fname,
                                   path=cache, downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False)))
    except ValueError as err:  # pooch: the SHA-256 of the download is not the expected one
        if "does not match" not in str(err):
            raise FetchError(f"{url} : le téléchargement a échoué ({err}).") from None
        if target.exists() and (not trusted or sha256_of(target) != trusted):
            target.unlink()  # an older, altered copy must not stay either
        actual = re.search(r"but got ([0-9a-f]{64})", str(err))
        raise FetchError(
            f"{url} : l'empreinte SHA-256 du fichier téléchargé est {actual.group(1) if actual else 'différente'}, "
            f"attendu {trusted}. Le fichier a été refusé et rien n'a été gardé dans {cache}. Si le producteur a "
            "publié une nouvelle version, vérifiez-la, puis mettez à jour NATIONAL_FILES (dataquartiers/fetch.py) "
            f"ou supprimez l'empreinte enregistrée ({record.name}).") from None
    except requests.exceptions.ConnectionError as err:
        raise FetchError(
            f"{url} : impossible de joindre le serveur ({type(err).__name__}). Pas de réseau ? Les labs tournent "
            "avec les données livrées dans datasets/ ; relancez cette commande depuis un ordinateur connecté à "
            "Internet (le fichier est ensuite gardé en cache et resservira sans réseau).") from None
    except requests.exceptions.Timeout:
        raise FetchError(f"{url} : pas de réponse en {timeout:g} s ; réessayez plus tard.") from None
    except requests.exceptions.HTTPError as err:
        status = err.response.status_code if err.response is not None else "?"
        raise FetchError(
            f"{url} : le serveur a répondu HTTP {status}. Le producteur a peut-être déplacé le fichier : voyez "
            f"{entry.page} et mettez à jour NATIONAL_FILES (dataquartiers/fetch.py).") from None
    finally:
        logger.setLevel(level)
    if not expected and not record.exists():
        # Trust on first use: remember the hash so that later uses detect an altered cache.
        record.write_text(sha256_of(path) + "\n", encoding="utf-8")
    return path


def _member(archive: zipfile.ZipFile, pattern: str, path: Path) -> str:
    names = [n for n in archive.namelist() if re.search(pattern, n, flags=re.I)]
    if not names:
        raise FetchError(f"{path} : aucun fichier de l'archive ne correspond à « {pattern} » "
                         f"(contenu : {', '.join(archive.namelist()[:10])})")
    return names[0]


def read_national(name: str, **fetch_options):
    """The national file as a DataFrame (CSV) or a GeoDataFrame in WGS84 (GeoJSON), fetched if needed."""
    entry = _entry(name)
    path = fetch(name, **fetch_options)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                raw = archive.read(_member(archive, entry.member, path))
        else:
            raw = path.read_bytes()
    except zipfile.BadZipFile as err:
        raise FetchError(f"{path} : archive zip illisible ({err})") from None
    if entry.kind == "geojson":
        import geopandas as gpd

        features = json.loads(raw.decode("utf-8"))["features"]
        return gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    text = raw.decode("utf-8-sig")
    header = text.split("\n", 1)[0].rstrip("\r").split(entry.sep)
    df = pd.read_csv(io.StringIO(text), sep=entry.sep, dtype={c: "string" for c in entry.codes if c in header})
    return df

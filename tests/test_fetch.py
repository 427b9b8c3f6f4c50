"""National files when online: checked and cached, tested against a local HTTP server."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, free_port, serve_folder
from dataquartiers import fetch
from dataquartiers.fetch import FetchError

FIXTURE = REPO / "tests" / "fixtures" / "data" / "national" / "BASE_TD_FILO_DISP_IRIS_2018.csv"


@pytest.fixture
def served(tmp_path):
    """A folder served on 127.0.0.1 holding a small Filosofi-like zip; yields (base URL, zip path)."""
    www = tmp_path / "www"
    www.mkdir()
    archive = www / "BASE_TD_FILO_DISP_IRIS_2018.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(FIXTURE, FIXTURE.name)
        z.writestr("meta_BASE_TD_FILO_DISP_IRIS_2018.csv", "COD_VAR;LIB_VAR\n")
    with serve_folder(www) as url:
        yield url, archive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_with_the_expected_hash_is_cached_and_read(served, tmp_path):
    url, archive = served
    cache = tmp_path / "cache"
    path = fetch.fetch("filosofi_iris_2018", url=f"{url}/{archive.name}", sha256=sha256(archive), cache=cache)
    assert path == cache / "filosofi_iris_2018.zip" and path.read_bytes() == archive.read_bytes()
    df = fetch.read_national("filosofi_iris_2018", url=f"{url}/{archive.name}", sha256=sha256(archive), cache=cache)
    assert list(df["IRIS"]) == ["010040101", "010040102", "2A0040101"]  # codes keep their leading zeros
    assert str(df["IRIS"].dtype) == "string" and df["DISP_TP6018"].iloc[0] == 20.1


def test_a_file_without_known_hash_is_trusted_once_then_checked(served, tmp_path):
    url, archive = served
    cache = tmp_path / "cache"
    path = fetch.fetch("filosofi_iris_2018", url=f"{url}/{archive.name}", cache=cache)
    record = cache / "filosofi_iris_2018.zip.sha256"
    assert record.read_text(encoding="utf-8").strip() == sha256(archive)
    # a later use needs no network: the cached file matches the recorded hash
    dead = f"http://127.0.0.1:{free_port()}/{archive.name}"
    assert fetch.fetch("filosofi_iris_2018", url=dead, cache=cache) == path


def test_a_bad_hash_is_a_clear_error_and_leaves_nothing_in_the_cache(served, tmp_path):
    url, archive = served
    cache = tmp_path / "cache"
    wrong = "0" * 64
    with pytest.raises(FetchError) as err:
        fetch.fetch("filosofi_iris_2018", url=f"{url}/{archive.name}", sha256=wrong, cache=cache)
    message = str(err.value)
    assert message.startswith(f"{url}/{archive.name} : l'empreinte SHA-256 du fichier téléchargé est {sha256(archive)}, "
                              f"attendu {wrong}.")
    assert "rien n'a été gardé" in message
    assert not cache.exists() or list(cache.iterdir()) == []


def test_an_altered_cache_is_removed_when_the_new_download_does_not_match(served, tmp_path):
    url, archive = served
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "filosofi_iris_2018.zip").write_bytes(b"truncated")
    (cache / "filosofi_iris_2018.zip.sha256").write_text("1" * 64 + "\n", encoding="utf-8")
    with pytest.raises(FetchError, match="attendu 1{64}"):
        fetch.fetch("filosofi_iris_2018", url=f"{url}/{archive.name}", cache=cache)
    assert not (cache / "filosofi_iris_2018.zip").exists()


def test_a_server_down_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/BASE_TD_FILO_DISP_IRIS_2018.zip"
    with pytest.raises(FetchError) as err:
        fetch.fetch("filosofi_iris_2018", url=url, sha256="0" * 64, cache=tmp_path / "cache", timeout=5)
    assert str(err.value).startswith(f"{url} : impossible de joindre le serveur (ConnectionError). Pas de réseau ?")
    assert not (tmp_path / "cache" / "filosofi_iris_2018.zip").exists()


def test_a_missing_file_on_the_server_points_to_the_producer_page(served, tmp_path):
    url, _ = served
    with pytest.raises(FetchError, match=r"a répondu HTTP 404\. Le producteur a peut-être déplacé le fichier : voyez https://www\.insee\.fr/fr/statistiques/5055909"):
        fetch.fetch("filosofi_iris_2018", url=f"{url}/absent.zip", sha256="0" * 64, cache=tmp_path / "cache")


def test_an_unknown_national_file_lists_the_known_ones():
    with pytest.raises(FetchError, match=r"Fichier national inconnu : « filosofi »\. Fichiers connus : filosofi_iris_2018, filosofi_iris_2019"):
        fetch.fetch("filosofi")


def test_the_registry_points_to_official_https_urls():
    for name, entry in fetch.NATIONAL_FILES.items():
        assert entry.url.startswith(("https://www.insee.fr/", "https://www.data.gouv.fr/", "https://data.geopf.fr/")), name
        assert entry.page.startswith("https://") and entry.member and entry.kind in ("csv", "geojson"), name
        assert entry.sha256 is None or len(entry.sha256) == 64, name

"""Statistical secrecy: small counts are caught in a table, masked, and absent from shipped data."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from conftest import REPO
from dataquartiers import data, secrecy
from dataquartiers.secrecy import SecrecyError, check_displayable, find_small_counts, mask_small_counts

MINI = REPO / "tests" / "fixtures" / "data" / "mini"


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "iris": ["A", "B", "C", "D", "E"],
        "population": pd.array([2450, 4, 0, 11, None], dtype="Int64"),
        "menages": [10.6, 120.0, 3.0, 10.99, 50.0],
        "part": [1.0, 2.0, 3.0, 4.0, 5.0],  # a rate: never checked
    }, index=[10, 11, 12, 13, 14])


def test_small_counts_are_found_cell_by_cell():
    found = find_small_counts(table(), ["population", "menages"])
    assert [(s.row, s.column, s.value) for s in found] == [
        (11, "population", 4.0), (10, "menages", 10.6), (12, "menages", 3.0), (13, "menages", 10.99)]
    assert str(found[0]) == "ligne 11, colonne « population » : 4 est inférieur à 11"


def test_zero_eleven_and_missing_values_are_not_small_counts():
    found = find_small_counts(table(), ["population"])
    assert [s.row for s in found] == [11]


def test_a_table_about_to_be_shown_is_refused_with_its_small_counts():
    with pytest.raises(SecrecyError) as err:
        check_displayable(table(), ["population", "menages"], name="IRIS de test")
    assert str(err.value).startswith("IRIS de test : 4 effectif(s) inférieur(s) à 11 seraient affichés "
                                     "(ligne 11, colonne « population » : 4 est inférieur à 11 ;")
    assert "mask_small_counts" in str(err.value)
    ok = table().drop(index=[10, 11, 12, 13])
    assert check_displayable(ok, ["population", "menages"]) is ok


def test_masking_replaces_small_counts_by_missing_values_only():
    masked = mask_small_counts(table(), ["population", "menages"])
    assert masked["population"].isna().tolist() == [False, True, False, False, True]
    assert masked["menages"].isna().tolist() == [True, False, True, True, False]
    assert masked.loc[10, "population"] == 2450 and masked.loc[12, "population"] == 0
    assert masked["part"].tolist() == table()["part"].tolist()
    assert find_small_counts(masked, ["population", "menages"]) == []
    check_displayable(masked, ["population", "menages"])


def test_unknown_columns_are_named():
    with pytest.raises(KeyError, match="find_small_counts : pas de colonne « habitants »"):
        find_small_counts(table(), ["habitants"])
    with pytest.raises(KeyError, match="mask_small_counts : pas de colonne « habitants »"):
        mask_small_counts(table(), ["habitants"])


def test_the_shipped_check_names_file_column_line_and_key():
    found = secrecy.check_dataset("iris_population", MINI)
    assert [str(s) for s in found] == ["mini/iris_population.csv : colonne « population », ligne 3 (code_iris=352380102) : "
                                       "4 est inférieur à 11"]
    assert secrecy.check_dataset("quartiers", MINI) == []


def test_the_command_fails_on_small_counts(tmp_path, capsys):
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    assert secrecy.main(["check", "--datasets", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "mini/iris_population.csv : colonne « population », ligne 3 (code_iris=352380102) : 4 est inférieur à 11" in captured.out
    assert "1 effectif(s) inférieur(s) à 11" in captured.err
    path = folder / "iris_population.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",4,", ",,"), encoding="utf-8")
    assert secrecy.main(["check", "--datasets", str(folder)]) == 0


def test_the_shipped_datasets_pass_the_check(capsys):
    assert secrecy.main(["check", "--datasets", str(REPO / "datasets")]) == 0
    assert "secret statistique : OK" in capsys.readouterr().out


def test_the_counts_of_persons_and_households_are_marked():
    """The check only sees marked fields: the tables that count people must mark them."""
    expected = {
        "rennes_iris_population": {"p22_pop", "p22_pop65p"},
        "qpv_demographie": {"POP_MUN", "A", "PERCOU", "AM"},
        "qpv_revenus_c2s": {"C", "C_C2SNP", "C_C2SP", "ARSAS"},
        "qpv_emploi": {"ABCDE", "ABC_DUR4_H", "CA"},
        "caf_iris_2020": {"A", "PERCOU", "ACSSENF", "ARSAS"},
        "iris_chaleur_lcz": {"elderly_80_plus_alone"},
        "iris_personnes_agees_seules": {"elderly_55_plus_alone"},
        "marseille_temperature_carreaux": {"num_people"},
        "qpv_occitanie_indicateurs": {"pop_mun", "abcde"},
        "lyon_iris_2012": {"p12_pop"},
    }
    for name, columns in expected.items():
        marked = set(data.count_columns(name, REPO / "datasets"))
        assert columns <= marked, f"{name}: {sorted(columns - marked)} not marked dq:count_of"


def test_a_percentage_computed_from_a_masked_count_is_masked_too():
    elderly = data.load("iris_personnes_agees_seules", folder=REPO / "datasets")
    masked = elderly["elderly_55_plus_alone"].isna()
    assert masked.any()
    assert elderly.loc[masked, "pct_elderly_55_alone"].isna().all()

"""The atlas's figures: one sheet per priority neighbourhood of the national QPV tables.

Why the sheets are keyed on the **2015 codes** (QP…): the three national tables of the book (DEMO,
REVN, IPRO, edition 2022) describe the 2015 neighbourhoods, and no statistics on the 2024 geography
are in the book's data. A sheet therefore carries the figures of the neighbourhood they were measured
on, and lists the 2024 neighbourhoods (QN…) of the same commune(s), each with how well it is linked:

- ``recouvrement``: the two contours were overlaid (a derived overlap table, such as the one made
  for Marseille): a reliable link, with the shares of surface in common;
- ``nom``: same commune and a similar name: **not** a reliable link, shown as a guess to check;
- ``commune``: same commune only: no link between the two neighbourhoods is claimed.

Figures: every count of persons or households (fields marked ``dq:count_of`` in the data package)
under 11 is masked (`dataquartiers.secrecy`), and so is any share computed from a masked count. The
commune column comes from the same table where it gives the commune (population), otherwise from
the CNAF allocataires by IRIS, summed over the published IRIS of the commune(s) (another vintage,
said on every line); no other commune figure is in the book's data, and none is made up. The tables
give no figure for France: the sheets give the median of the neighbourhoods of the table instead,
labelled as such.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dataquartiers import data, secrecy

#: The national tables of the 2015 neighbourhoods, in the order of the sheets.
TABLES = ("qpv_demographie", "qpv_revenus_c2s", "qpv_emploi")
#: The 2024 list (QN codes, one row per neighbourhood and commune).
LIST_2024 = "qpv2024_communes"
#: Commune comparators for the CNAF indicators: the allocataires by IRIS.
CAF_IRIS = "caf_iris_2020"
REFERENCE_TABLES = ("communes", "departements", "epci_communes")
CODE_2015 = re.compile(r"^QP[0-9]{3}[0-9]{3}$|^QP02[AB][0-9]{3}$")


class AtlasDataError(ValueError):
    """The data package lacks what the atlas needs; the message names the resource and the field."""


@dataclass(frozen=True)
class Indicator:
    """One line of a sheet: a column of a table, or a share of two of its counts (in %)."""

    id: str
    label: str
    column: str
    denominator: str | None = None
    unit: str = "%"
    decimals: int = 1
    #: Where the commune's figure comes from: ("table", column) in the same row, or ("caf", column
    #: or "num/den") in the CNAF allocataires by IRIS; None: no commune figure in the book's data.
    commune: tuple[str, str] | None = None
    #: Drawn in the chart "the neighbourhood and its commune".
    chart: bool = False


@dataclass(frozen=True)
class Block:
    """A group of lines from one producer inside a table, with the producer's quality flag."""

    id: str
    title: str
    table: str
    note: str | None
    indicators: tuple[Indicator, ...]


def _i(*args, **kwargs) -> Indicator:
    return Indicator(*args, **kwargs)


BLOCKS: tuple[Block, ...] = (
    Block("population", "Population (recensement)", "qpv_demographie", "NOTE_RP", (
        _i("population", "Population municipale", "POP_MUN", unit="habitants", decimals=0,
           commune=("table", "POP_COM")),
        _i("population_qpv_commune", "Population de l'ensemble des quartiers prioritaires de la commune",
           "POP_COM_QP", unit="habitants", decimals=0, commune=("table", "POP_COM_QP")),
        _i("part_femmes", "Part des femmes", "TX_F"),
        _i("part_moins_25_ans", "Part des moins de 25 ans", "TX_TOT_0A24"),
        _i("part_60_ans_plus", "Part des 60 ans ou plus", "TX_TOT_60ETPLUS"),
        _i("indice_jeunesse", "Indice de jeunesse (moins de 20 ans pour une personne de 60 ans ou plus)",
           "IND_JEUNE", unit="", decimals=1),
        _i("part_menages_1_personne", "Part des ménages d'une personne", "TX_TOT_MEN1"),
        _i("part_menages_6_personnes", "Part des ménages de six personnes ou plus", "TX_TOT_MEN6"),
        _i("part_etrangers", "Part des étrangers", "TX_TOT_ET"),
    )),
    Block("allocataires", "Allocataires des CAF (CNAF)", "qpv_demographie", "NOTE_CNAF", (
        _i("allocataires", "Foyers allocataires", "A", unit="foyers", decimals=0, commune=("caf", "A")),
        _i("personnes_couvertes", "Personnes couvertes par une prestation", "PERCOU", unit="personnes",
           decimals=0, commune=("caf", "PERCOU")),
        _i("part_monoparents", "Part des familles monoparentales parmi les allocataires", "AM", "A",
           commune=("caf", "AM/A"), chart=True),
        _i("part_isoles", "Part des personnes seules sans enfant parmi les allocataires", "AI", "A",
           commune=("caf", "AI/A"), chart=True),
        _i("part_couples_enfants", "Part des couples avec enfant(s) parmi les allocataires", "ACAVENF", "A",
           commune=("caf", "ACAVENF/A")),
        _i("part_3_enfants", "Part des allocataires avec trois enfants ou plus", "AC3ENF", "A",
           commune=("caf", "AC3ENF/A")),
    )),
    Block("revenus", "Revenus et pauvreté (INSEE, Filosofi)", "qpv_revenus_c2s", "NOTE_FILO", (
        _i("revenu_disponible_median", "Revenu disponible médian par unité de consommation", "DISP_Q2",
           unit="€ par an", decimals=0),
        _i("taux_pauvrete", "Taux de pauvreté (seuil de 60 % du revenu médian)", "TP60"),
        _i("rapport_interdecile", "Rapport entre les 10 % les plus aisés et les 10 % les plus modestes (D9/D1)",
           "DISP_D1D9", unit="", decimals=1),
        _i("revenu_declare_median", "Revenu déclaré médian par unité de consommation", "DECUC_Q2",
           unit="€ par an", decimals=0),
        _i("part_menages_imposes", "Part des ménages fiscaux imposés", "PMIMP"),
        _i("part_revenus_activite", "Part des revenus d'activité dans le revenu disponible", "PACT"),
        _i("part_prestations_sociales", "Part des prestations sociales dans le revenu disponible", "PPSOC"),
    )),
    Block("c2s", "Complémentaire santé solidaire (Assurance maladie)", "qpv_revenus_c2s", "NOTE_CNAM", (
        _i("assures", "Personnes couvertes par l'Assurance maladie (régime général)", "C", unit="personnes",
           decimals=0),
        _i("c2s_sans_participation", "Bénéficiaires de la C2S sans participation (ex-CMU-C)", "C_C2SNP",
           unit="personnes", decimals=0),
        _i("c2s_avec_participation", "Bénéficiaires de la C2S avec participation (ex-ACS)", "C_C2SP",
           unit="personnes", decimals=0),
        _i("part_c2s_sans_participation", "Part des assurés bénéficiaires de la C2S sans participation",
           "C_C2SNP", "C"),
    )),
    Block("prestations", "Prestations des CAF (CNAF)", "qpv_revenus_c2s", "NOTE_CNAF", (
        _i("part_rsa", "Part des allocataires du RSA parmi les allocataires", "ARSAS", "A",
           commune=("caf", "ARSAS/A"), chart=True),
        _i("part_prime_activite", "Part des allocataires de la prime d'activité parmi les allocataires", "APPA", "A",
           commune=("caf", "APPA/A"), chart=True),
        _i("part_aah", "Part des allocataires de l'AAH parmi les allocataires", "AAAH", "A",
           commune=("caf", "AAAH/A"), chart=True),
    )),
    Block("emploi", "Emploi (recensement)", "qpv_emploi", None, (
        _i("taux_emploi", "Taux d'emploi des 15-64 ans", "TX_TOT_EMPL"),
        _i("taux_emploi_femmes", "Taux d'emploi des femmes de 15 à 64 ans", "TX_F_EMPL"),
        _i("part_emplois_precaires", "Part des emplois précaires (CDD, intérim, contrats aidés…)", "TX_TOT_EDLIM"),
    )),
    Block("demandeurs", "Demandeurs d'emploi (France Travail)", "qpv_emploi", "NOTE_PE", (
        _i("demandeurs_abc", "Demandeurs d'emploi de catégories A, B, C", "ABC", unit="personnes", decimals=0),
        _i("demandeurs_abcde", "Demandeurs d'emploi de catégories A, B, C, D, E", "ABCDE", unit="personnes",
           decimals=0),
        _i("part_demandeurs_femmes", "Part des femmes parmi les demandeurs (A, B, C)", "ABC_F", "ABC"),
        _i("part_demandeurs_25_ans", "Part des 25 ans ou moins parmi les demandeurs (A, B, C)", "ABC_25", "ABC"),
        _i("part_demandeurs_50_ans", "Part des 50 ans ou plus parmi les demandeurs (A, B, C)", "ABC_50", "ABC"),
        _i("part_demandeurs_sans_diplome", "Part des demandeurs (A, B, C) de formation inférieure au CAP-BEP",
           "ABC_INFCAPBEP", "ABC"),
    )),
    Block("evolution", "Évolution des demandeurs d'emploi sur un an (France Travail)", "qpv_emploi", "NOTE_PE_T", (
        _i("evolution_demandeurs_abc", "Évolution sur un an des demandeurs de catégories A, B, C", "EVOL_ABC_T4"),
    )),
    Block("contrats_aides", "Contrats aidés (ASP)", "qpv_emploi", "NOTE_ASP", (
        _i("contrats_aides", "Salariés en contrat aidé", "CA", unit="personnes", decimals=0),
    )),
)


def indicators() -> list[Indicator]:
    return [i for b in BLOCKS for i in b.indicators]


# --- what a sheet holds -----------------------------------------------------------------------

OK, ABSENT, MASKED, NOT_IN_TABLE = "diffusé", "non diffusé", "masqué", "hors du tableau"


@dataclass(frozen=True)
class Value:
    value: float | None
    #: OK; ABSENT (empty in the producer's file: secret or not available); MASKED (a count under 11,
    #: or a share computed from one, hidden here); NOT_IN_TABLE (the neighbourhood is not in that table).
    status: str

    @property
    def shown(self) -> bool:
        return self.status == OK and self.value is not None


@dataclass(frozen=True)
class CommuneValue:
    value: float | None
    status: str
    #: Where it comes from, said next to the figure ("" when there is none in the book's data).
    source: str = ""


@dataclass(frozen=True)
class Line:
    indicator: Indicator
    value: Value
    commune: CommuneValue | None
    median: float | None  # median of the neighbourhoods of the table (rates, amounts; not counts)


@dataclass(frozen=True)
class BlockFigures:
    block: Block
    lines: tuple[Line, ...]
    in_table: bool
    #: The producer's quality flag (NOTE_*): None when the table has no such column for the block.
    note: int | None
    note_missing: bool = False  # the table has the flag's column, the row leaves it empty


@dataclass(frozen=True)
class Link2024:
    code: str
    name: str
    communes: tuple[str, ...]
    kind: str  # "recouvrement", "nom" or "commune"
    part_of_2015: float | None = None  # share of the 2015 neighbourhood's surface inside the 2024 one
    part_of_2024: float | None = None


@dataclass
class Sheet:
    code: str
    name: str
    communes: list[tuple[str, str]]           # (code, name) as in the tables (arrondissements kept)
    territory_communes: list[tuple[str, str]]  # the communes an officer types (arrondissements → city)
    departements: list[tuple[str, str]]
    epcis: list[tuple[str, str]]
    blocks: list[BlockFigures]
    commune_label: str                         # LIB_COM of the table
    links_2024: list[Link2024] = field(default_factory=list)
    has_contour: bool = False

    @property
    def population(self) -> Value:
        return self.line("population").value

    def line(self, indicator_id: str) -> Line:
        for b in self.blocks:
            for line in b.lines:
                if line.indicator.id == indicator_id:
                    return line
        raise KeyError(indicator_id)


@dataclass(frozen=True)
class Neighbourhood2024:
    code: str
    name: str
    communes: tuple[str, ...]


@dataclass
class Commune:
    """An entry of the index: a commune (Paris, Lyon, Marseille: the whole city) with its sheets."""

    code: str
    name: str
    departement: str
    epci: str
    sheets: list[str] = field(default_factory=list)           # codes of the 2015 sheets
    neighbourhoods_2024: list[Neighbourhood2024] = field(default_factory=list)
    arrondissements: dict[str, str] = field(default_factory=dict)  # code → name, where sheets lie


@dataclass(eq=False)
class Atlas:
    sheets: dict[str, Sheet]
    communes: dict[str, Commune]
    departements: dict[str, str]
    resources: dict[str, dict]
    overlap_resource: str | None
    contour_resources: list[str]
    contours_2024_resources: list[str]
    folder: Path

    def sheet_codes(self) -> list[str]:
        return sorted(self.sheets)


# --- reading ----------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Text for matching typed searches: no accent, lower case, only letters and digits between spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text).replace("œ", "oe").replace("Œ", "OE")
                                       .replace("æ", "ae").replace("Æ", "AE"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _name_tokens(name: str) -> set[str]:
    # Words that many names share say nothing about which neighbourhood it is.
    stop = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "sur", "sous", "quartier",
            "quartiers", "cite", "saint", "sainte", "st", "ste", "centre", "ville", "nord", "sud", "est", "ouest",
            "haut", "bas", "grand", "petit", "residence", "zup", "secteur"}
    return {t for t in fold(name).split() if t not in stop and len(t) > 1}


def similar_names(a: str, b: str) -> bool:
    """Two neighbourhood names share most of their words (a guess, never a link)."""
    ta, tb = _name_tokens(a), _name_tokens(b)
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) >= 0.5


def _need(resources: dict, name: str, fields: list[str]) -> dict:
    if name not in resources:
        raise AtlasDataError(f"datasets/datapackage.json : l'atlas a besoin de la ressource « {name} », absente "
                             f"(ressources présentes : {', '.join(sorted(resources))}).")
    have = {f.get("name") for f in resources[name].get("schema", {}).get("fields", [])}
    missing = [f for f in fields if f not in have]
    if missing:
        raise AtlasDataError(f"datasets/datapackage.json : la ressource « {name} » n'a pas le(s) champ(s) "
                             f"{', '.join(missing)} dont l'atlas a besoin.")
    return resources[name]


def _fields(res: dict) -> set[str]:
    return {f.get("name") for f in res.get("schema", {}).get("fields", [])}


def find_overlap_resource(resources: dict) -> str | None:
    """A derived overlap of 2015 and 2024 contours: a resource with code_qp_2015 and code_qp_2024."""
    for name, res in resources.items():
        if {"code_qp_2015", "code_qp_2024"} <= _fields(res):
            return name
    return None


def find_contour_resources(resources: dict, vintage: str) -> list[str]:
    """Contours of neighbourhoods of one geography (2015 or 2024): found by what they are, not by name."""
    found = []
    for name, res in resources.items():
        if (res.get("granularity") == "qpv" and res.get("format") == "geojson" and "code_qp" in _fields(res)
                and vintage in str(res.get("vintage", ""))):
            found.append(name)
    return sorted(found)


def used_resources(resources: dict) -> list[str]:
    """Every resource the atlas reads (the national tables, the references, the 2024 list, the CNAF
    IRIS, the contours and the overlap found by what they are)."""
    used = set(TABLES) | set(REFERENCE_TABLES) | {LIST_2024, CAF_IRIS}
    used |= set(find_contour_resources(resources, "2015")) | set(find_contour_resources(resources, "2024"))
    overlap = find_overlap_resource(resources)
    if overlap:
        used.add(overlap)
    return sorted(n for n in used if n in resources)


def input_files(folder: Path | None = None) -> list[Path]:
    """The files the atlas is made from (read without loading them: for the build's digest)."""
    folder = Path(folder) if folder else data.datasets_dir()
    resources = data.resources(folder)
    return [folder / "datapackage.json"] + [folder / resources[n]["path"] for n in used_resources(resources)]


class _Reader:
    """The tables, read once, with counts masked."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.resources = data.resources(folder)

    def load(self, name: str) -> pd.DataFrame:
        try:
            return data.load(name, folder=self.folder)
        except (data.DatasetFileError, data.UnknownResourceError) as err:
            raise AtlasDataError(f"l'atlas ne peut pas lire la ressource « {name} » : {err}") from None

    def masked(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(masked table, boolean frame: True where a count was masked here)."""
        df = self.load(name)
        counts = [c for c in data.count_columns(self.resources[name]) if c in df.columns]
        out = secrecy.mask_small_counts(df, counts)
        was_masked = pd.DataFrame(False, index=df.index, columns=df.columns)
        for c in counts:
            was_masked[c] = (out[c].isna() & df[c].notna()).to_numpy()
        return out, was_masked


def _plain_rows(df: pd.DataFrame) -> dict[str, dict]:
    """code → {column: float, str or None}: pandas' own scalars are slow to read one by one."""
    columns = {}
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype):
            values = df[c].astype("float64").to_numpy()
            columns[c] = [None if v != v else float(v) for v in values.tolist()]
        else:
            columns[c] = df[c].astype(object).where(df[c].notna(), None).tolist()
    names = list(columns)
    return {code: dict(zip(names, row)) for code, row in zip(columns["CODGEO"], zip(*columns.values()))}


def _masked_columns(df: pd.DataFrame, masked: pd.DataFrame) -> dict[str, set]:
    out: dict[str, set] = {code: set() for code in df["CODGEO"]}
    codes = df["CODGEO"].tolist()
    for c in masked.columns:
        for i in masked[c].to_numpy().nonzero()[0]:
            out[codes[i]].add(c)
    return out


def _num(v) -> float | None:
    if v is None or pd.isna(v):
        return None
    return float(v)


def _value(row: dict, masked: set, ind: Indicator) -> Value:
    cols = [ind.column] + ([ind.denominator] if ind.denominator else [])
    if any(c in masked for c in cols):
        return Value(None, MASKED)
    num = _num(row[ind.column])
    if ind.denominator is None:
        return Value(num, OK) if num is not None else Value(None, ABSENT)
    den = _num(row[ind.denominator])
    if num is None or den is None or den == 0:
        return Value(None, ABSENT)
    return Value(100 * num / den, OK)


def _column_values(df: pd.DataFrame, ind: Indicator) -> pd.Series:
    num = pd.to_numeric(df[ind.column], errors="coerce").astype("float64")
    if ind.denominator is None:
        return num
    den = pd.to_numeric(df[ind.denominator], errors="coerce").astype("float64").replace(0, float("nan"))
    return 100 * num / den


def _is_count(ind: Indicator, res: dict) -> bool:
    return ind.denominator is None and ind.column in data.count_columns(res)


class _CafCommunes:
    """CNAF allocataires by IRIS summed by commune, published IRIS only (another vintage: 2020).

    Sums are made once per commune with pandas; a sheet then adds plain numbers (pandas row access
    for 1,400 sheets × a dozen lines would take tens of seconds)."""

    def __init__(self, reader: _Reader):
        self.available = CAF_IRIS in reader.resources
        self._sums: dict[str, dict[str, tuple[float, float, int]]] = {}
        if not self.available:
            return
        caf, _ = reader.masked(CAF_IRIS)
        self.frame = caf.assign(_commune=caf["CODGEO"].str.slice(0, 5))
        self.iris_total = self.frame.groupby("_commune").size().to_dict()
        self.vintage = reader.resources[CAF_IRIS].get("vintage", "")

    def _per_commune(self, key: str) -> dict[str, tuple[float, float, int]]:
        """commune → (numerator, denominator, IRIS used), over the IRIS where both are published."""
        if key not in self._sums:
            num, _, den = key.partition("/")
            cols = [num] + ([den] if den else [])
            both = self.frame[self.frame[cols].notna().all(axis=1)]
            sums = both.groupby("_commune")[cols].sum()
            iris = both.groupby("_commune").size()
            self._sums[key] = {c: (float(sums.at[c, num]), float(sums.at[c, den]) if den else 0.0, int(iris[c]))
                               for c in sums.index}
        return self._sums[key]

    def value(self, key: str, communes: list[str]) -> CommuneValue:
        if not self.available:
            return CommuneValue(None, ABSENT)
        per = self._per_commune(key)
        found = [per[c] for c in communes if c in per]
        total_iris = sum(self.iris_total.get(c, 0) for c in communes)
        if not found or total_iris == 0:
            return CommuneValue(None, ABSENT)
        n, d, used = (sum(x[i] for x in found) for i in range(3))
        where = f"CNAF {self.vintage}, somme de {used} IRIS diffusés sur {total_iris}"
        if "/" in key:
            return CommuneValue(100 * n / d, OK, where) if d else CommuneValue(None, ABSENT)
        if 0 < n < secrecy.THRESHOLD:
            return CommuneValue(None, MASKED, where)
        return CommuneValue(n, OK, where)


def _commune_names(communes: pd.DataFrame) -> tuple[dict, dict]:
    names = dict(zip(communes["code"], communes["nom"]))
    parents = {c: p for c, p in zip(communes["code"], communes["commune_parente"]) if isinstance(p, str) and p}
    return names, parents


def build_atlas(folder: Path | None = None) -> Atlas:
    """Read the data package and make every sheet and the index."""
    folder = Path(folder) if folder else data.datasets_dir()
    reader = _Reader(folder)
    res = reader.resources
    for name in TABLES:
        _need(res, name, ["CODGEO", "LIBGEO", "CODES_COMMUNES"])
    _need(res, "qpv_demographie", ["POP_MUN", "POP_COM", "POP_COM_QP", "LIB_COM"])
    for name in REFERENCE_TABLES:
        _need(res, name, [])
    _need(res, LIST_2024, ["code_qp", "lib_qp", "insee_com"])

    tables = {name: reader.masked(name) for name in TABLES}
    for block in BLOCKS:
        df = tables[block.table][0]
        needed = {c for i in block.indicators for c in (i.column, i.denominator) if c} | ({block.note} - {None})
        missing = sorted(needed - set(df.columns))
        if missing:
            raise AtlasDataError(f"datasets/datapackage.json : la ressource « {block.table} » n'a pas le(s) "
                                 f"champ(s) {', '.join(missing)} (rubrique « {block.title} » de l'atlas).")
    # Plain dictionaries: code → {column: value} and code → masked columns (fast row access).
    indexed = {name: (_plain_rows(df), _masked_columns(df, m)) for name, (df, m) in tables.items()}
    medians = {}
    for block in BLOCKS:
        df = tables[block.table][0]
        for ind in block.indicators:
            if not _is_count(ind, res[block.table]):
                med = _column_values(df, ind).median()
                medians[ind.id] = None if pd.isna(med) else float(med)
            else:
                medians[ind.id] = None

    communes_df = reader.load("communes")
    names, parents = _commune_names(communes_df)
    deps = reader.load("departements")
    dep_names = dict(zip(deps["code"], deps["nom"]))
    epci = reader.load("epci_communes")
    epci_of = {c: (s, n) for c, s, n in zip(epci["code_commune"], epci["siren_epci"], epci["nom_epci"])}
    caf = _CafCommunes(reader)

    list_2024 = reader.load(LIST_2024)
    by_commune_2024: dict[str, list[Neighbourhood2024]] = {}
    seen_2024: dict[str, Neighbourhood2024] = {}
    for code, rows in list_2024.groupby("code_qp", sort=True):
        n = Neighbourhood2024(str(code), str(rows["lib_qp"].iloc[0]), tuple(sorted(set(rows["insee_com"].dropna()))))
        seen_2024[n.code] = n
        for c in n.communes:
            by_commune_2024.setdefault(parents.get(c, c), []).append(n)

    overlap_name = find_overlap_resource(res)
    overlaps: dict[str, list[tuple[str, float | None, float | None]]] = {}
    if overlap_name:
        ov = reader.load(overlap_name)
        for _, row in ov.iterrows():
            overlaps.setdefault(str(row["code_qp_2015"]), []).append(
                (str(row["code_qp_2024"]), _num(row.get("part_of_2015_area")), _num(row.get("part_of_2024_area"))))
    contour_names = find_contour_resources(res, "2015")
    with_contour: set[str] = set()
    for name in contour_names:
        with_contour |= set(reader.load(name)["code_qp"].dropna().astype(str))

    codes = sorted(set().union(*(set(tables[n][0]["CODGEO"]) for n in TABLES)))
    bad = [c for c in codes if not CODE_2015.match(str(c))]
    if bad:
        raise AtlasDataError(f"{res['qpv_demographie']['path']} : champ CODGEO, « {bad[0]} » n'est pas un code de "
                             "quartier 2015 (QP suivi de 6 caractères, par exemple QP013003).")
    sheets: dict[str, Sheet] = {}
    index: dict[str, Commune] = {}
    for code in codes:
        first = next(indexed[n][0][code] for n in TABLES if code in indexed[n][0])
        commune_codes = str(first["CODES_COMMUNES"]).split()
        blocks = []
        for block in BLOCKS:
            rows, masked = indexed[block.table]
            if code not in rows:
                blocks.append(BlockFigures(block, tuple(Line(i, Value(None, NOT_IN_TABLE), None, medians[i.id])
                                                        for i in block.indicators), False, None))
                continue
            row, mrow = rows[code], masked[code]
            lines = []
            for ind in block.indicators:
                commune = None
                if ind.commune and ind.commune[0] == "table":
                    col = ind.commune[1]
                    if col in mrow:
                        commune = CommuneValue(None, MASKED, "même fichier")
                    else:
                        v = _num(row[col])
                        commune = CommuneValue(v, OK if v is not None else ABSENT, "même fichier")
                elif ind.commune and ind.commune[0] == "caf":
                    commune = caf.value(ind.commune[1], commune_codes)
                lines.append(Line(ind, _value(row, mrow, ind), commune, medians[ind.id]))
            note, note_missing = None, False
            if block.note:
                raw = row[block.note]
                note_missing = raw is None
                note = None if note_missing else int(raw)
            blocks.append(BlockFigures(block, tuple(lines), True, note, note_missing))

        territory = sorted({parents.get(c, c) for c in commune_codes})
        name = str(first["LIBGEO"])
        links = []
        measured = {c: (p15, p24) for c, p15, p24 in overlaps.get(code, [])}
        candidates = {n.code: n for t in territory for n in by_commune_2024.get(t, [])}
        for qn, (p15, p24) in measured.items():
            if qn in seen_2024:
                candidates.setdefault(qn, seen_2024[qn])
        for qn in sorted(candidates):
            n = candidates[qn]
            if qn in measured:
                kind = "recouvrement"
            elif similar_names(name, n.name):
                kind = "nom"
            else:
                kind = "commune"
            p15, p24 = measured.get(qn, (None, None))
            links.append(Link2024(qn, n.name, n.communes, kind, p15, p24))
        order = {"recouvrement": 0, "nom": 1, "commune": 2}
        links.sort(key=lambda link: (order[link.kind], -(link.part_of_2015 or 0), link.code))

        dep_codes = sorted({data.departement_of(c) for c in commune_codes})
        epcis = sorted({epci_of[t] for t in territory if t in epci_of})
        sheet = Sheet(
            code=code, name=name,
            communes=[(c, names.get(c, c)) for c in commune_codes],
            territory_communes=[(t, names.get(t, t)) for t in territory],
            departements=[(d, dep_names.get(d, d)) for d in dep_codes],
            epcis=epcis, blocks=blocks, commune_label=str(first.get("LIB_COM", "")),
            links_2024=links, has_contour=code in with_contour)
        sheets[code] = sheet
        for t in territory:
            entry = index.setdefault(t, Commune(t, names.get(t, t), data.departement_of(t),
                                                epci_of.get(t, ("", ""))[1]))
            entry.sheets.append(code)
            for c in commune_codes:
                if parents.get(c) == t:
                    entry.arrondissements[c] = names.get(c, c)
    for t, neighbourhoods in by_commune_2024.items():
        entry = index.setdefault(t, Commune(t, names.get(t, t), data.departement_of(t),
                                            epci_of.get(t, ("", ""))[1]))
        entry.neighbourhoods_2024 = sorted(neighbourhoods, key=lambda n: n.code)
    return Atlas(sheets=sheets, communes=index,
                 departements={d: dep_names.get(d, d) for d in {e.departement for e in index.values()}},
                 resources=res, overlap_resource=overlap_name, contour_resources=contour_names,
                 contours_2024_resources=find_contour_resources(res, "2024"),
                 folder=folder)

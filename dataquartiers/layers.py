"""The map layers a lab needs for a territory, found by what each resource of the data package is.

A layer is not looked up by a dataset's name: any resource of the data package (or of a
territory pack) counts if its descriptor says what it is — its `granularity` (`qpv`, `iris`,
`commune`) and its format (`geojson`: it has contours). A participant who declares their own
`qpv_dijon` (granularity `qpv`, GeoJSON, columns `code_qp` and `nom_qp`) gets it here, and so do
the zips and the ethics check, which follow the `@reads(where=…)` declarations below.

QPV contours come in two geographies: 2015 (codes QP…) and 2024 (codes QN…, in force since
1 January 2024). A resource says which with `qpv_geography`; without it, the codes tell.

When a territory has no such layer, `MissingLayer` says in French which layer is missing, what the
territory's data cover, and how to get it (a territory pack, or one's own file). A lab that can go
on without the layer passes `if_missing="what it removes from the analysis"`: the note is printed
where it matters and the function returns None. Where only part of a territory has contours (an
EPCI), the layer comes back with a note listing what is missing from it.
"""

from __future__ import annotations

import re

import pandas as pd

from .data import UnknownTerritoryError, datasets_dir, load, name_of, reads, resolve_territory, resources, say

QPV_COLUMNS = ["code_qp", "nom_qp", "geometry"]
IRIS_COLUMNS = ["code_iris", "nom_iris", "geometry"]
#: Accepted column names (any case) for a code and a name, in order of preference.
CODE_FIELDS = {"qpv": ("code_qp", "codgeo"), "iris": ("code_iris", "iris"), "commune": ("code", "code_commune", "insee_com")}
NAME_FIELDS = {"qpv": ("nom_qp", "lib_qp", "libgeo"), "iris": ("nom_iris", "libiris", "lib_iris"),
               "commune": ("nom", "nom_commune", "lib_com")}
#: What a layer is called in the French notes.
LAYER_NAMES = {"qpv": "contours des quartiers prioritaires (QPV)", "iris": "contours des IRIS",
               "commune": "contour de la commune (ou de l'arrondissement)"}


def is_contours(granularity: str):
    """A test on a resource descriptor: contours (GeoJSON) of the given granularity."""
    def test(res: dict) -> bool:
        return res.get("granularity") == granularity and (
            res.get("format") == "geojson" or str(res.get("path", "")).endswith(".geojson"))
    return test


def qpv_geography(res: dict, codes=()) -> str:
    """'2024' or '2015': declared by the resource (`qpv_geography`), else told by its codes."""
    declared = res.get("qpv_geography")
    if declared:
        return str(declared)
    first = next((str(c) for c in codes if isinstance(c, str) and c), "")
    return "2024" if first.upper().startswith("QN") else "2015"


class MissingLayer(UnknownTerritoryError):
    """A layer the data package does not have for a territory; the message says how to get it."""

    label = "Couche manquante"

    def __init__(self, layer: str, territory: str, covered: str = "", removes: str = "", how: str = ""):
        self.layer, self.territory, self.covered, self.removes, self.how = layer, territory, covered, removes, how
        super().__init__(self.explain(removes))

    def explain(self, removes: str = "") -> str:
        label = f"{name_of(self.territory)} ({self.territory})"
        lines = [f"Couche manquante : {self.layer} pour {label}."]
        if removes:
            lines.append(f"Ce que cela retire à l'analyse : {removes}.")
        lines.append(self.how or how_to_get(self.territory))
        if self.covered:
            lines.append(f"Les données du paquet couvrent : {self.covered}.")
        return "\n".join(lines)


def _absent(err: MissingLayer, if_missing: str | None):
    """Raise the missing layer; or, when the lab goes on without it (`if_missing`: what that
    removes from the analysis), say so where it matters and return None."""
    if if_missing is None:
        raise err
    say(err.explain(if_missing))
    return None


def how_to_get(territory: str) -> str:
    """The French sentence telling how to obtain the missing layers of a territory."""
    return (f"Pour l'obtenir : sur un ordinateur connecté, `make territory CODE={territory}` dans le dossier du livre, "
            f"ou `make_pack(\"{territory}\")` (module dataquartiers.territory) dans un notebook, télécharge les "
            "fichiers officiels (ANCT, IGN, INSEE) et les ajoute au paquet de données ; vous pouvez aussi déclarer "
            "vos propres fichiers dans datasets/datapackage.json (voir le LISEZMOI du lab).")


#: Where the 2015 QPV contours come from (no territory pack makes them: the 2024 geography is in force).
HOW_2015 = ("les contours des QPV de 2015 sont publiés par l'ANCT (jeu « Quartiers prioritaires de la politique de la "
            "ville (QPV) » de data.gouv.fr) : déclarez-les dans datasets/datapackage.json avec la granularité qpv et "
            "\"qpv_geography\": \"2015\" (voir le LISEZMOI du lab).")


def _field(df: pd.DataFrame, candidates) -> str | None:
    lower = {str(c).lower(): c for c in df.columns}
    return next((lower[c] for c in candidates if c in lower), None)


def _year(res: dict) -> int:
    """The edition of a resource's contours, for choosing between two that cover a commune."""
    text = str(res.get("vintage", ""))
    years = re.findall(r"(?:IRIS|contours|QPV)\D{0,12}(\d{4})", text, flags=re.I) or re.findall(r"\d{4}", text)
    return max(map(int, years)) if years else 0


def _candidates(test) -> list[tuple[str, dict]]:
    """Resources passing `test`, the most recent edition first; packs before shipped files."""
    found = [(n, r) for n, r in resources().items() if test(r)]
    return sorted(found, key=lambda nr: (0 if nr[1].get("dq:pack") else 1, -_year(nr[1]), nr[0]))


#: The columns a layer comes back with, whatever the source calls them.
OUT_COLUMNS = {"qpv": ("code_qp", "nom_qp"), "iris": ("code_iris", "nom_iris"), "commune": ("code", "nom")}


def _normalised(layer, kind: str, name: str):
    code, label = _field(layer, CODE_FIELDS[kind]), _field(layer, NAME_FIELDS[kind])
    if code is None:
        raise UnknownTerritoryError(
            f"Le jeu « {name} » est déclaré comme {LAYER_NAMES[kind]} mais n'a pas de colonne de code "
            f"({' ou '.join(CODE_FIELDS[kind])}) : renommez la colonne dans le fichier et dans datapackage.json.")
    code_out, name_out = OUT_COLUMNS[kind]
    out = pd.DataFrame({code_out: layer[code].astype("string"),
                        name_out: (layer[label] if label else layer[code]).astype("string")})
    out["geometry"] = layer.geometry.to_numpy()
    out["source"] = name
    return out


def _covered_places(name: str, shown: int = 8) -> str:
    """« name » (Marseille, Aubagne…): the communes a layer covers, arrondissements counted once."""
    from .data import _PARENT, coverage

    level, codes = coverage(name)
    if level != "commune":
        return f"« {name} »"
    communes = sorted({_PARENT.get(c, c) for c in codes})
    names = ", ".join(name_of(c) for c in communes[:shown]) + (f" et {len(communes) - shown} autres" if len(communes) > shown else "")
    return f"« {name} » ({names})"


def _layer(kind: str, territory: str, *, one_per: str):
    """Every feature of `kind` contours in the territory: for each commune (or each code), the
    features of the first resource that has it (packs first, then the most recent edition)."""
    import geopandas as gpd

    pieces, covered, taken = [], [], set()
    for name, res in _candidates(is_contours(kind)):
        try:
            layer = load(name, territory=territory)
        except UnknownTerritoryError:
            covered.append(_covered_places(name))
            continue
        frame = _normalised(layer, kind, name)
        code = frame[OUT_COLUMNS[kind][0]]
        if kind == "qpv":  # the same code never means the same area in both geographies
            frame["geographie"] = qpv_geography(res, code)
            group = code + "/" + frame["geographie"]
        else:
            group = code if one_per == "code" else code.str.slice(0, 5)
        fresh = ~group.isin(taken)
        taken |= set(group)
        if fresh.any():
            pieces.append(frame[fresh.to_numpy()])
    if not pieces:
        return None, "; ".join(covered)
    return gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), geometry="geometry", crs="EPSG:4326"), "; ".join(covered)


#: The QPV lists without contours: which QPV a territory has, in each geography.
QPV_LISTS = {"2024": ("qpv2024_communes", "code_qp", "lib_qp"), "2015": ("qpv_demographie", "CODGEO", "LIBGEO")}


@reads(*(name for name, _, _ in QPV_LISTS.values()))
def qpv_list(territory: str, geography: str = "2024", *, if_missing: str | None = None) -> pd.DataFrame:
    """The QPV of a territory in one geography (code and name), from the tables without contours.

    2024: the ANCT list of the 2024 QPV and their communes; 2015: the national QPV tables. With
    `if_missing` (what the lab loses), a territory without QPV in that geography gets a note and
    an empty table instead of an error.
    """
    name, code, label = QPV_LISTS[str(geography)]
    try:
        table = load(name, territory=territory)
    except UnknownTerritoryError as err:
        if if_missing is None:
            raise
        say(f"{err}\nCe que cela retire à l'analyse : {if_missing}.")
        return pd.DataFrame({"code_qp": pd.Series(dtype="string"), "nom_qp": pd.Series(dtype="string")})
    return (table[[code, label]].rename(columns={code: "code_qp", label: "nom_qp"})
            .drop_duplicates("code_qp").sort_values("code_qp").reset_index(drop=True))


def _partial_note(gdf, territory: str, geography: str) -> list[str]:
    """The QPV of the territory (in that geography) that have no contour in the layer."""
    try:
        listed = qpv_list(territory, geography)
    except UnknownTerritoryError:
        return []
    missing = listed[~listed["code_qp"].isin(set(gdf["code_qp"]))]
    return [f"{r.nom_qp} ({r.code_qp})" for r in missing.itertuples()]


@reads(*(name for name, _, _ in QPV_LISTS.values()), where=is_contours("qpv"))
def qpv_contours(territory: str, geography: str | None = None, *, if_missing: str | None = None,
                 quiet: bool = False):
    """QPV contours of a territory (commune, arrondissement, EPCI or department code).

    `geography`: "2024", "2015", or None for the 2024 geography where contours exist, else 2015.
    Columns: code_qp, nom_qp, geographie ("2015" or "2024"), source (the dataset), geometry.
    Only one geography comes back. Where the layer covers only part of the territory's QPV, a
    note lists the missing ones (`quiet=True` to skip it; they are in `.attrs["sans_contour"]`).
    """
    gdf, covered = _layer("qpv", territory, one_per="code")
    if gdf is not None:
        wanted = str(geography) if geography else ("2024" if (gdf["geographie"] == "2024").any() else "2015")
        gdf = gdf[gdf["geographie"] == wanted]
        if gdf.empty:
            gdf = None
    if gdf is None:
        what = LAYER_NAMES["qpv"] + (f", géographie {geography}" if geography else "")
        err = MissingLayer(what, territory, covered, how="Pour les obtenir : " + HOW_2015 if str(geography) == "2015" else "")
        return _absent(err, if_missing)
    gdf = gdf.reset_index(drop=True)
    missing = _partial_note(gdf, territory, wanted)
    gdf.attrs["sans_contour"] = missing
    if missing and not quiet:
        shown = ", ".join(missing[:12]) + (f" et {len(missing) - 12} autres" if len(missing) > 12 else "")
        say(f"Contours partiels : {len(gdf)} des {len(gdf) + len(missing)} QPV {wanted} de {name_of(territory)} "
            f"ont un contour dans le paquet ; manquent sur les cartes et dans les croisements : {shown}.\n"
            + how_to_get(territory))
    return gdf


@reads("filosofi_iris_2018", where=is_contours("iris"))
def iris_contours(territory: str, *, if_missing: str | None = None, quiet: bool = False):
    """IRIS contours of a territory (commune, arrondissement, EPCI or department code).

    Columns: code_iris, nom_iris, source, geometry. For each commune, the most recent edition
    of the contours found in the data package (a territory pack comes first).
    """
    gdf, covered = _layer("iris", territory, one_per="commune")
    if gdf is None:
        err = MissingLayer(LAYER_NAMES["iris"], territory, covered)
        return _absent(err, if_missing)
    t = resolve_territory(territory)
    gdf = gdf.reset_index(drop=True)
    lacking = []
    if t.kind == "epci":
        lacking = sorted(_communes_with_iris(t) - set(gdf["code_iris"].str.slice(0, 5)))
    gdf.attrs["sans_contour"] = lacking
    if lacking and not quiet:
        communes = len(_communes_with_iris(t))
        shown = ", ".join(f"{name_of(c)} ({c})" for c in lacking[:12]) + (
            f" et {len(lacking) - 12} autres" if len(lacking) > 12 else "")
        say(f"Contours partiels : les IRIS de {communes - len(lacking)} des {communes} communes découpées en IRIS "
            f"de {name_of(territory)} sont dans le paquet ; manquent : {shown}.\n" + how_to_get(territory))
    return gdf


def _communes_with_iris(t) -> set[str]:
    """Communes of the territory that Filosofi divides into IRIS (the national file says which)."""
    try:
        table = load("filosofi_iris_2018", territory=t.code)
    except UnknownTerritoryError:
        return set()
    return set(table["IRIS"].str.slice(0, 5))


@reads(where=is_contours("commune"))
def territory_outline(territory: str):
    """The outline of a territory: its commune, its arrondissement, or its EPCI's communes merged.

    Only exact contours count: an arrondissement is not outlined by its whole commune; a commune
    is outlined by its own contour, or else by all of its arrondissements. Returns a GeoDataFrame
    of one row (code, nom, geometry); `.attrs["sans_contour"]` lists the communes of an EPCI that
    have no contour in the data package.
    """
    import geopandas as gpd

    from .data import _arrondissements

    t = resolve_territory(territory)
    folder = datasets_dir()
    if t.kind in ("commune", "arrondissement"):
        wanted = [t.code]
    else:
        children = _arrondissements(set(t.communes or ()), folder)[0]
        wanted = sorted(set(t.communes or ()) - children)
    features: dict[str, object] = {}
    for name, _res in _candidates(is_contours("commune")):
        try:
            layer = _normalised(load(name, territory=territory), "commune", name)
        except UnknownTerritoryError:
            continue
        for code, geometry in zip(layer["code"], layer.geometry):
            features.setdefault(str(code), geometry)
    parts, lacking = [], []
    for code in wanted:
        arrondissements = sorted(_arrondissements({code}, folder)[0])
        if code in features:
            parts.append(features[code])
        elif arrondissements and all(a in features for a in arrondissements):
            parts.extend(features[a] for a in arrondissements)
        else:
            lacking.append(code)
    if not parts:
        raise MissingLayer(LAYER_NAMES["commune"], territory)
    outline = gpd.GeoSeries(parts, crs="EPSG:4326").union_all()
    gdf = gpd.GeoDataFrame({"code": [t.code], "nom": [name_of(t.code)]}, geometry=[outline], crs="EPSG:4326")
    gdf.attrs["sans_contour"] = lacking
    return gdf


def is_job_offers(res: dict) -> bool:
    """A test on a resource descriptor: geolocated job offers (points with a ROME code)."""
    fields = {f.get("name") for f in res.get("schema", {}).get("fields", [])}
    return res.get("granularity") == "point" and {"code_rome", "latitude", "longitude"} <= fields


@reads(where=is_job_offers)
def job_offers(territory: str, *, if_missing: str | None = None):
    """Every job offer of the files that have offers in the territory (the whole file: an offer
    just outside the territory is still near its quartiers), or None with a note.

    A file of offers is found by what it is: granularity `point`, columns `code_rome`, `latitude`,
    `longitude` (and a territory field for the commune of the offer).
    """
    found = []
    for name, res in sorted(resources().items()):
        if not is_job_offers(res) or not res.get("territory"):
            continue
        try:
            load(name, territory=territory)
        except UnknownTerritoryError:
            continue
        found.append(load(name).assign(source=name))
    if not found:
        err = MissingLayer("offres d'emploi géolocalisées", territory, how=(
            "Pour les obtenir : France Travail publie ses offres par une API ouverte (inscription gratuite sur "
            "francetravail.io) ; gardez le code ROME, le type de contrat, la commune et les coordonnées, puis "
            "déclarez le fichier dans datasets/datapackage.json avec la granularité point (voir le LISEZMOI du lab)."))
        return _absent(err, if_missing)
    offers = pd.concat(found, ignore_index=True)
    offers.attrs["descripteurs"] = [resources()[name] for name in sorted(set(offers["source"]))]
    return offers


def _has_field(granularity: str, field: str):
    def test(res: dict) -> bool:
        return res.get("granularity") == granularity and field in {f.get("name") for f in res.get("schema", {}).get("fields", [])}
    return test


#: Land-surface temperature by 200 m square (a Landsat image crossed with the INSEE grid).
is_surface_temperature = _has_field("carreau_200m", "land_surface_temperature")
#: Exposure to heat by IRIS from the local climate zones (LCZ) of the CEREMA.
is_lcz_score = _has_field("iris", "heat_score")


@reads(where=lambda res: is_surface_temperature(res) or is_contours("commune")(res))
def temperature_squares(territory: str, *, if_missing: str | None = None):
    """The 200 m squares with a land-surface temperature whose centre lies in the territory (its
    own outline: an arrondissement keeps its squares, not the whole city's), or None with a note."""
    import geopandas as gpd

    from .geo import within_polygons

    try:
        outline = territory_outline(territory)
    except MissingLayer as err:
        return _absent(err, if_missing)
    pieces = [load(name).assign(source=name) for name, res in sorted(resources().items()) if is_surface_temperature(res)]
    if pieces:
        squares = gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), geometry="geometry", crs="EPSG:4326")
        inside = squares[within_polygons(squares, outline).to_numpy()]
        if len(inside):
            return inside.reset_index(drop=True)
    return _absent(MissingLayer("température de surface par carreau de 200 m", territory, how=(
        "Pour l'obtenir : une image Landsat (USGS, domaine public) croisée avec la grille de 200 m de l'INSEE "
        "(Filosofi carroyé), comme l'a fait l'enquête de Mediapart pour Marseille ; déclarez le fichier dans "
        "datasets/datapackage.json avec la granularité carreau_200m et une colonne land_surface_temperature.")), if_missing)


@reads(where=is_lcz_score)
def lcz_exposure(territory: str, *, if_missing: str | None = None) -> pd.DataFrame | None:
    """The LCZ heat score (High / Medium / Low) of each IRIS of the territory, or None with a note."""
    pieces = []
    for name, res in sorted(resources().items()):
        if is_lcz_score(res) and res.get("territory"):
            try:
                layer = load(name, territory=territory)
            except UnknownTerritoryError:
                continue
            pieces.append(pd.DataFrame({"code_iris": layer["code_iris"].astype("string"), "heat_score": layer["heat_score"]}))
    if not pieces:
        err = MissingLayer("zones climatiques locales (LCZ) par IRIS", territory, how=(
            "Pour les obtenir : le CEREMA publie les zones climatiques locales des grandes aires urbaines (LCZ 2022, "
            "data.gouv.fr) ; ramenez-les à l'IRIS (la zone la plus fréquente) et déclarez le fichier dans "
            "datasets/datapackage.json avec la granularité iris et une colonne heat_score (High, Medium, Low)."))
        return _absent(err, if_missing)
    return pd.concat(pieces, ignore_index=True).drop_duplicates("code_iris")


#: The derived 2015 → 2024 overlap shipped for Marseille, under the columns qpv_2015_2024 returns.
OVERLAP_TABLE = "qpv_2015_2024_marseille"
OVERLAP_COLUMNS = {"code_qp_2015": "code_qp_2015", "nom_qp_2015": "nom_qp_2015", "code_qp_2024": "code_qp_2024",
                   "lib_qp_2024": "nom_qp_2024", "inter_ha": "surface_commune_ha",
                   "part_of_2015_area": "part_du_qpv_2015", "part_of_2024_area": "part_du_qpv_2024"}


@reads(OVERLAP_TABLE, *(name for name, _, _ in QPV_LISTS.values()), where=is_contours("qpv"))
def qpv_2015_2024(territory: str, *, if_missing: str | None = None) -> pd.DataFrame | None:
    """How the 2015 QPV of a territory overlap its 2024 QPV: one row per pair that overlaps, with
    the common surface (ha), its share of the 2015 QPV and its share of the 2024 QPV.

    From the derived table shipped for Marseille when it covers the territory, else computed from
    the contours of both geographies when the data package has them (Lambert-93; pairs under
    0.01 ha left out). Either way a derived table, not an official correspondence.
    """
    try:
        table = load(OVERLAP_TABLE, territory=territory)
        out = table[list(OVERLAP_COLUMNS)].rename(columns=OVERLAP_COLUMNS)
        out.attrs["source"] = OVERLAP_TABLE
        return out.reset_index(drop=True)
    except UnknownTerritoryError:
        pass
    try:
        old = qpv_contours(territory, "2015", quiet=True)
        new = qpv_contours(territory, "2024", quiet=True)
    except MissingLayer:
        err = MissingLayer("contours des QPV dans les deux géographies (2015 et 2024)", territory, how=(
            f"Pour les obtenir : les contours 2024 avec `make territory CODE={territory}` (ou make_pack) sur un "
            f"ordinateur connecté ; {HOW_2015}"))
        return _absent(err, if_missing)
    import geopandas as gpd

    a = old[["code_qp", "nom_qp", "geometry"]].to_crs(2154).rename(columns={"code_qp": "code_qp_2015", "nom_qp": "nom_qp_2015"})
    b = new[["code_qp", "nom_qp", "geometry"]].to_crs(2154).rename(columns={"code_qp": "code_qp_2024", "nom_qp": "nom_qp_2024"})
    a["_aire_2015"], b["_aire_2024"] = a.geometry.area, b.geometry.area
    pieces = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
    pieces["surface_commune_ha"] = (pieces.geometry.area / 10_000).round(2)
    pieces = pieces[pieces["surface_commune_ha"] >= 0.01]
    pieces["part_du_qpv_2015"] = (pieces.geometry.area / pieces["_aire_2015"]).round(4)
    pieces["part_du_qpv_2024"] = (pieces.geometry.area / pieces["_aire_2024"]).round(4)
    out = pd.DataFrame(pieces[list(OVERLAP_COLUMNS.values())]).reset_index(drop=True)
    out.attrs["source"] = "calculé à partir des contours"
    return out


def _named_iris(res: dict) -> bool:
    """A resource by IRIS with a code and a name column (and a territory field)."""
    fields = {f.get("name", "").lower() for f in res.get("schema", {}).get("fields", [])}
    return (res.get("granularity") == "iris" and bool(res.get("territory"))
            and any(c in fields for c in CODE_FIELDS["iris"]) and any(n in fields for n in NAME_FIELDS["iris"]))


@reads(where=_named_iris)
def iris_names(territory: str) -> pd.Series:
    """The name of each IRIS of a territory (index: IRIS code), from every resource that has it."""
    names = {}
    for name, res in resources().items():
        if not _named_iris(res):
            continue
        fields = {f["name"].lower(): f["name"] for f in res.get("schema", {}).get("fields", [])}
        code = next(fields[c] for c in CODE_FIELDS["iris"] if c in fields)
        label = next(fields[c] for c in NAME_FIELDS["iris"] if c in fields)
        try:
            table = load(name, territory=territory)
        except UnknownTerritoryError:
            continue
        for c, n in zip(table[code].astype("string"), table[label].astype("string")):
            if pd.notna(c) and pd.notna(n):
                names.setdefault(str(c), str(n))
    return pd.Series(names, name="nom_iris", dtype="string").rename_axis("code_iris")


def overlap_share(zones, areas, zone_id: str, area_id: str) -> pd.DataFrame:
    """For each pair (zone, area) that intersect, the share of the zone's surface in the area.

    Computed in Lambert-93 (EPSG:2154) so surfaces are in square metres. Used to tell which IRIS
    a QPV lies in: a QPV rarely follows IRIS boundaries.
    """
    import geopandas as gpd

    z = zones[[zone_id, "geometry"]].to_crs(2154)
    a = areas[[area_id, "geometry"]].to_crs(2154)
    z = z.assign(_zone_area=z.geometry.area)
    pieces = gpd.overlay(z, a, how="intersection", keep_geom_type=True)
    pieces["share"] = pieces.geometry.area / pieces["_zone_area"]
    return pieces[[zone_id, area_id, "share"]].sort_values([zone_id, "share"], ascending=[True, False]).reset_index(drop=True)


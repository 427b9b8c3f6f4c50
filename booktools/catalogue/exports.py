"""The catalogue for machines and for spreadsheets, published at the root of the site:

- `catalogue.csv`: one row per source, comma-separated UTF-8 (for programs);
- `catalogue-tableur.csv`: the same rows for a spreadsheet set to French (semicolons, a byte-order
  mark so that accents survive, Windows line ends);
- `catalogue.jsonld`: DCAT-AP 3 (a dcat:Catalog of dcat:Dataset), for harvesters (data.gouv.fr's
  udata, regional portals).

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@` (or a tab, a carriage return) as a
formula: such a cell gets a leading apostrophe in both CSV files, which every spreadsheet shows as
text (OWASP's advice for CSV injection).

Harvesters read the JSON-LD with no base address (udata parses it with rdflib as is): every IRI is
absolute, made from the site's address (Sphinx's `html_baseurl`, configured once in _config.yml).
Licences are IRIs without a label (udata takes a label before the IRI); periods are `xsd:date`
(udata turns an `xsd:gYear` into the day of the harvest) in a blank node (udata downloads an IRI);
formats and media types come from the EU file-type and IANA vocabularies; spatial coverage is a
list of IRIs (EU countries, INSEE's official geographic code); a publisher is its website's IRI.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
from pathlib import Path

from .model import Catalogue, label, quality, terms
from .pages import fiche_docname, partners_of_source

CSV_NAME = "catalogue.csv"
SPREADSHEET_NAME = "catalogue-tableur.csv"
JSONLD_NAME = "catalogue.jsonld"
#: What starts a formula in a spreadsheet cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = [
    "id", "title", "description", "publisher", "publisher_url", "landing_page",
    "licence", "licence_label", "licence_url", "licence_status", "licence_note",
    "access", "access_note", "spatial_coverage", "granularity", "geography_vintage",
    "temporal_start", "temporal_end", "frequency", "themes", "keywords", "formats",
    "access_urls", "download_urls", "personal_data", "limitations", "labs", "partners",
    "last_reviewed", "quality_score", "page",
]

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


#: Spatial codes of the catalogue (schema field `spatial`) -> IRI.
SPATIAL_IRIS = {
    "pays": "http://publications.europa.eu/resource/authority/country/{}",
    "region": "http://id.insee.fr/geo/region/{}",
    "departement": "http://id.insee.fr/geo/departement/{}",
    "commune": "http://id.insee.fr/geo/commune/{}",
    "epci": "http://id.insee.fr/geo/intercommunalite/{}",
}


def _page(base_url: str, source_id: str) -> str:
    path = f"{fiche_docname(source_id)}.html"
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _joined(values) -> str:
    return "; ".join(str(v) for v in values or [])


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe before what would start a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rows(cat: Catalogue, base_url: str):
    for entry in sorted(cat.valid_sources(), key=lambda e: e.id):
        d = entry.data
        licence = terms("source", "licence")[d["licence"]]
        criteria = quality(d, cat.today)
        yield {
            "id": entry.id, "title": d["title"], "description": d["description"].strip(),
            "publisher": d["publisher"]["name"], "publisher_url": d["publisher"]["url"],
            "landing_page": d["landing_page"], "licence": d["licence"], "licence_label": licence["label"],
            "licence_url": licence.get("url", ""), "licence_status": d["licence_status"],
            "licence_note": d.get("licence_note", ""), "access": d["access"], "access_note": d.get("access_note", ""),
            "spatial_coverage": d["spatial_coverage"], "granularity": d["granularity"],
            "geography_vintage": _joined(d.get("geography_vintage")),
            "temporal_start": d["temporal"]["start"], "temporal_end": d["temporal"].get("end", ""),
            "frequency": d["frequency"], "themes": _joined(d["themes"]), "keywords": _joined(d.get("keywords")),
            "formats": _joined(dict.fromkeys(x["format"] for x in d["distributions"])),
            "access_urls": _joined(x["url"] for x in d["distributions"]),
            "download_urls": _joined(x["download_url"] for x in d["distributions"] if x.get("download_url")),
            "personal_data": d["personal_data"], "limitations": d.get("limitations", "").strip(),
            "labs": _joined(d.get("labs")), "partners": _joined(p.id for p in partners_of_source(cat, entry.id)),
            "last_reviewed": d["last_reviewed"],
            "quality_score": f"{sum(c.passed for c in criteria)}/{len(criteria)}",
            "page": _page(base_url, entry.id),
        }


def to_csv(cat: Catalogue, base_url: str = "", delimiter: str = ",", lineterminator: str = "\n") -> str:
    """The sources as CSV; every cell safe for a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, delimiter=delimiter, lineterminator=lineterminator)
    writer.writeheader()
    for row in _rows(cat, base_url):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def to_spreadsheet_csv(cat: Catalogue, base_url: str = "") -> bytes:
    """For a spreadsheet set to French: semicolons, UTF-8 with its byte-order mark, CRLF line ends."""
    return to_csv(cat, base_url, delimiter=";", lineterminator="\r\n").encode("utf-8-sig")


def _fr(text: str) -> dict:
    return {"@value": " ".join(str(text).split()), "@language": "fr"}


def period_date(value: str, end: bool = False) -> dict:
    """A year, month or date of the catalogue as an xsd:date: the first day of the period it names,
    or its last day for the end of a period ("2020" ends on 2020-12-31)."""
    parts = [int(p) for p in value.split("-")]
    year, month = parts[0], parts[1] if len(parts) > 1 else (12 if end else 1)
    day = parts[2] if len(parts) > 2 else (calendar.monthrange(year, month)[1] if end else 1)
    return {"@value": f"{year:04d}-{month:02d}-{day:02d}", "@type": "xsd:date"}


def spatial_iri(code: str) -> str:
    kind, _, value = code.partition(":")
    return SPATIAL_IRIS[kind].format(value)


def _licence(d: dict) -> dict:
    """dct:license (an IRI, no label) when the licence has one; dct:rights (a statement) otherwise."""
    licence = terms("source", "licence")[d["licence"]]
    if licence.get("iri"):
        return {"dct:license": {"@id": licence["iri"], "@type": "dct:LicenseDocument"}}
    statement = licence["label"] + (f" : {d['licence_note']}" if d.get("licence_note") else "")
    return {"dct:rights": {"@type": "dct:RightsStatement", "rdfs:label": _fr(statement)}}


def dataset(cat: Catalogue, entry, base_url: str) -> dict:
    d = entry.data
    formats = terms("source", "distributions.format")
    themes = terms("source", "themes")
    licence = _licence(d)
    temporal = {"@type": "dct:PeriodOfTime", "dcat:startDate": period_date(d["temporal"]["start"])}
    if d["temporal"].get("end"):
        temporal["dcat:endDate"] = period_date(d["temporal"]["end"], end=True)
    coverage = (f"Couverture géographique : {' '.join(d['spatial_coverage'].split())} ; maille la plus fine : "
                f"{label('source', 'granularity', d['granularity'])}")
    if d.get("geography_vintage"):
        coverage += " ; géographie : " + ", ".join(d["geography_vintage"])

    distributions = []
    for x in d["distributions"]:
        fmt = formats[x["format"]]
        node = {"@type": "dcat:Distribution", "dct:title": _fr(x["title"]), "dcat:accessURL": {"@id": x["url"]},
                **licence}
        if x.get("download_url"):
            node["dcat:downloadURL"] = {"@id": x["download_url"]}
        node["dct:format"] = {"@id": fmt["eu"]}
        if fmt.get("mediatype"):
            node["dcat:mediaType"] = {"@id": f"https://www.iana.org/assignments/media-types/{fmt['mediatype']}"}
        distributions.append(node)

    publisher = d["publisher"]
    node = {
        "@id": _page(base_url, entry.id),
        "@type": "dcat:Dataset",
        "dct:identifier": entry.id,
        "dct:title": _fr(d["title"]),
        "dct:description": _fr(d["description"]),
        # The organisation's IRI is its website's address (the schema asks for its public site).
        "dct:publisher": {"@id": publisher["url"], "@type": "foaf:Agent", "foaf:name": _fr(publisher["name"])},
        "dcat:landingPage": {"@id": d["landing_page"], "@type": "foaf:Document"},
        **licence,
        "dct:accessRights": {"@id": terms("source", "access")[d["access"]]["eu"]},
        "dct:temporal": temporal,
        "dct:accrualPeriodicity": {"@id": terms("source", "frequency")[d["frequency"]]["eu"]},
        "dcat:theme": [{"@id": uri} for uri in dict.fromkeys(themes[t]["eu"] for t in d["themes"])],
        "dcat:keyword": [_fr(k) for k in [label("source", "themes", t) for t in d["themes"]]
                         + list(d.get("keywords") or [])],
        "dcat:distribution": distributions,
        "rdfs:comment": [_fr(coverage)],
    }
    if d.get("spatial"):
        node["dct:spatial"] = [{"@id": spatial_iri(code), "@type": "dct:Location"} for code in d["spatial"]]
    if d["licence_status"] == "unverified":
        node["rdfs:comment"].append(_fr("Licence à vérifier : " + d.get("licence_note", "")))
    return node


def to_jsonld(cat: Catalogue, base_url: str, title: str = "Data & Quartiers") -> dict:
    """The DCAT-AP catalogue; `base_url` is the site's address (absolute IRIs need one)."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError("l'adresse du site (html_baseurl) est nécessaire pour un catalogue DCAT-AP moissonnable")
    site = base_url.rstrip("/") + "/"
    return {
        "@context": CONTEXT,
        "@id": f"{site}{JSONLD_NAME}",
        "@type": "dcat:Catalog",
        "dct:title": _fr(f"{title} : catalogue des sources de données ouvertes sur les quartiers prioritaires"),
        "dct:description": _fr("Sources de données ouvertes utiles pour observer les quartiers prioritaires "
                               "de la politique de la ville (QPV), décrites par le centre de ressources."),
        "dct:publisher": {"@id": f"{site}#editeur", "@type": "foaf:Agent", "foaf:name": _fr(title),
                          "foaf:homepage": {"@id": site}},
        "foaf:homepage": {"@id": site, "@type": "foaf:Document"},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "dcat:dataset": [dataset(cat, e, site) for e in sorted(cat.valid_sources(), key=lambda e: e.id)],
    }


def write_exports(cat: Catalogue, folder: Path | str, base_url: str = "") -> list[Path]:
    """The two CSV files, and the JSON-LD when the site's address is known."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, sheet_path, jsonld_path = folder / CSV_NAME, folder / SPREADSHEET_NAME, folder / JSONLD_NAME
    csv_path.write_text(to_csv(cat, base_url), encoding="utf-8")
    sheet_path.write_bytes(to_spreadsheet_csv(cat, base_url))
    written = [csv_path, sheet_path]
    if base_url:
        jsonld_path.write_text(json.dumps(to_jsonld(cat, base_url), ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(jsonld_path)
    return written

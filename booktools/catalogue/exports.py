"""The catalogue for machines: `catalogue.csv` (one row per source) and `catalogue.jsonld`
(DCAT-AP: a dcat:Catalog of dcat:Dataset), both published at the root of the site so that a
harvester (data.gouv.fr, a regional portal) can read them.

IRIs of the pages are made absolute with Sphinx's `html_baseurl` when it is set; otherwise they
stay relative, which JSON-LD resolves against the address the file is served from.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .model import Catalogue, label, quality, terms
from .pages import fiche_docname, partners_of_source

CSV_NAME = "catalogue.csv"
JSONLD_NAME = "catalogue.jsonld"

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
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _page(base_url: str, source_id: str) -> str:
    path = f"{fiche_docname(source_id)}.html"
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _joined(values) -> str:
    return "; ".join(str(v) for v in values or [])


def to_csv(cat: Catalogue, base_url: str = "") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in sorted(cat.valid_sources(), key=lambda e: e.id):
        d = entry.data
        licence = terms("source", "licence")[d["licence"]]
        criteria = quality(d, cat.today)
        writer.writerow({
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
        })
    return buffer.getvalue()


def _fr(text: str) -> dict:
    return {"@value": " ".join(str(text).split()), "@language": "fr"}


def _date(value: str) -> dict:
    kind = {4: "xsd:gYear", 7: "xsd:gYearMonth"}.get(len(value), "xsd:date")
    return {"@value": value, "@type": kind}


def dataset(cat: Catalogue, entry, base_url: str = "") -> dict:
    d = entry.data
    licence = terms("source", "licence")[d["licence"]]
    formats = terms("source", "distributions.format")
    themes = terms("source", "themes")
    licence_node = {"@type": "dct:LicenseDocument", "rdfs:label": _fr(licence["label"])}
    if licence.get("url"):
        licence_node["@id"] = licence["url"]
    temporal = {"@type": "dct:PeriodOfTime", "dcat:startDate": _date(d["temporal"]["start"])}
    if d["temporal"].get("end"):
        temporal["dcat:endDate"] = _date(d["temporal"]["end"])
    spatial_note = f"Maille la plus fine : {label('source', 'granularity', d['granularity'])}"
    if d.get("geography_vintage"):
        spatial_note += " ; géographie : " + ", ".join(d["geography_vintage"])

    distributions = []
    for x in d["distributions"]:
        fmt = formats[x["format"]]
        node = {"@type": "dcat:Distribution", "dct:title": _fr(x["title"]),
                "dcat:accessURL": {"@id": x["url"]}, "dct:license": licence_node}
        if x.get("download_url"):
            node["dcat:downloadURL"] = {"@id": x["download_url"]}
        node["dct:format"] = {"@id": fmt["eu"]} if fmt.get("eu") else _fr(fmt["label"])
        if fmt.get("mediatype"):
            node["dcat:mediaType"] = {"@id": f"https://www.iana.org/assignments/media-types/{fmt['mediatype']}"}
        distributions.append(node)

    node = {
        "@id": _page(base_url, entry.id),
        "@type": "dcat:Dataset",
        "dct:identifier": entry.id,
        "dct:title": _fr(d["title"]),
        "dct:description": _fr(d["description"]),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": d["publisher"]["name"],
                          "foaf:homepage": {"@id": d["publisher"]["url"]}},
        "dcat:landingPage": {"@id": d["landing_page"]},
        "dct:license": licence_node,
        "dct:accessRights": {"@id": terms("source", "access")[d["access"]]["eu"]},
        "dct:spatial": {"@type": "dct:Location", "skos:prefLabel": _fr(d["spatial_coverage"]),
                        "rdfs:comment": _fr(spatial_note)},
        "dct:temporal": temporal,
        "dct:accrualPeriodicity": {"@id": terms("source", "frequency")[d["frequency"]]["eu"]},
        "dcat:theme": [{"@id": uri} for uri in dict.fromkeys(themes[t]["eu"] for t in d["themes"])],
        "dcat:keyword": [_fr(k) for k in [label("source", "themes", t) for t in d["themes"]]
                         + list(d.get("keywords") or [])],
        "dcat:distribution": distributions,
        "dct:modified": _date(d["last_reviewed"]),
    }
    if d["licence_status"] == "unverified":
        node["rdfs:comment"] = _fr("Licence à vérifier : " + d.get("licence_note", ""))
    return node


def to_jsonld(cat: Catalogue, base_url: str = "", title: str = "Data & Quartiers") -> dict:
    return {
        "@context": CONTEXT,
        "@id": f"{base_url.rstrip('/')}/{JSONLD_NAME}" if base_url else JSONLD_NAME,
        "@type": "dcat:Catalog",
        "dct:title": _fr(f"{title} : catalogue des sources de données ouvertes sur les quartiers prioritaires"),
        "dct:description": _fr("Sources de données ouvertes utiles pour observer les quartiers prioritaires "
                               "de la politique de la ville (QPV), décrites par le centre de ressources."),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": title},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "dcat:dataset": [dataset(cat, e, base_url) for e in sorted(cat.valid_sources(), key=lambda e: e.id)],
    }


def write_exports(cat: Catalogue, folder: Path | str, base_url: str = "") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, jsonld_path = folder / CSV_NAME, folder / JSONLD_NAME
    csv_path.write_text(to_csv(cat, base_url), encoding="utf-8")
    jsonld_path.write_text(json.dumps(to_jsonld(cat, base_url), ensure_ascii=False, indent=1), encoding="utf-8")
    return [csv_path, jsonld_path]

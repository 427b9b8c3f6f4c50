"""The DCAT-AP 3 export harvests cleanly (issue 15, point 1).

A harvester reads catalogue.jsonld with rdflib and no base address (data.gouv.fr's udata does so):
every IRI must be absolute, licences must be IRIs (udata takes a licence's label before its IRI, so
there is none), periods `xsd:date` (an `xsd:gYear` becomes the day of the harvest) in a blank node
(udata downloads an IRI), formats from the EU file-type vocabulary. Checked here with the official
DCAT-AP 3.0.1 SHACL shapes (tests/fixtures/catalogue/dcat-ap/: mandatory and range) through pyshacl,
and with a harvest by rdflib that keeps every address, licence and date.

udata's own reader is not used: udata needs a MongoDB server holding its licence records and some
sixty packages (Flask, Celery, mongoengine…), more than a test of this book can install. The
rdflib harvest below follows its rules as read in its source (udata/core/dataset/rdf.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib.namespace as ns
from rdflib import Graph, Literal, URIRef

from booktools.catalogue import load_catalogue, to_jsonld
from booktools.catalogue.exports import period_date, spatial_iri
from booktools.catalogue.model import terms

pyshacl = pytest.importorskip("pyshacl")

REPO = Path(__file__).resolve().parent.parent
SHAPES = Path(__file__).resolve().parent / "fixtures" / "catalogue" / "dcat-ap"
SITE = "https://data-et-quartiers.example.org/livre/"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"

#: What a harvester's loaded vocabularies say of the EU authority IRIs (the README of the shapes
#: allows a test to add these types instead of loading the whole vocabularies).
VOCABULARIES = {
    ns.DCTERMS.accrualPeriodicity: (EU + "frequency/", ns.DCTERMS.Frequency),
    ns.DCAT.theme: (EU + "data-theme/", ns.SKOS.Concept),
    ns.DCTERMS.accessRights: (EU + "access-right/", ns.DCTERMS.RightsStatement),
    ns.DCTERMS.format: (EU + "file-type/", ns.DCTERMS.MediaTypeOrExtent),
    ns.DCTERMS.language: (EU + "language/", ns.DCTERMS.LinguisticSystem),
    ns.DCAT.mediaType: (IANA, ns.DCTERMS.MediaType),
}


@pytest.fixture(scope="module")
def cat():
    return load_catalogue(REPO)


@pytest.fixture(scope="module")
def harvested(cat) -> Graph:
    """The export as a harvester reads it: JSON-LD text parsed by rdflib with no base address."""
    text = json.dumps(to_jsonld(cat, SITE), ensure_ascii=False)
    return Graph().parse(data=text, format="json-ld")


def _with_vocabularies(graph: Graph) -> Graph:
    data = Graph()
    for triple in graph:
        data.add(triple)
    for predicate, (namespace, cls) in VOCABULARIES.items():
        for value in set(graph.objects(None, predicate)):
            assert isinstance(value, URIRef) and str(value).startswith(namespace), (predicate, value)
            data.add((value, ns.RDF.type, cls))
            if cls == ns.SKOS.Concept:
                data.add((value, ns.SKOS.prefLabel, Literal(str(value).rsplit("/", 1)[1], lang="en")))
                data.add((value, ns.SKOS.inScheme, URIRef(namespace.rstrip("/"))))
    return data


@pytest.mark.parametrize("shapes", ["shapes.ttl", "range.ttl"])
def test_the_official_dcat_ap_shapes_pass(harvested, shapes):
    conforms, _, report = pyshacl.validate(_with_vocabularies(harvested),
                                           shacl_graph=Graph().parse(SHAPES / shapes, format="turtle"))
    assert conforms, report[:5000]


def test_every_iri_is_absolute_without_a_base_address(harvested):
    iris = {term for triple in harvested for term in triple if isinstance(term, URIRef)}
    assert iris
    assert not [i for i in iris if not str(i).startswith(("http://", "https://"))]


def test_a_harvest_keeps_every_address_licence_and_date(cat, harvested):
    datasets = set(harvested.subjects(ns.RDF.type, ns.DCAT.Dataset))
    assert {str(d) for d in datasets} == {f"{SITE}catalogue/fiches/{e.id}.html" for e in cat.valid_sources()}
    licences = terms("source", "licence")
    for entry in cat.valid_sources():
        data = entry.data
        node = URIRef(f"{SITE}catalogue/fiches/{entry.id}.html")
        assert harvested.value(node, ns.DCAT.landingPage) == URIRef(data["landing_page"])
        publisher = harvested.value(node, ns.DCTERMS.publisher)
        assert publisher == URIRef(data["publisher"]["url"])  # the organisation's IRI, not a blank node
        assert harvested.value(publisher, ns.FOAF.name) == Literal(" ".join(data["publisher"]["name"].split()), lang="fr")

        licence = harvested.value(node, ns.DCTERMS.license)
        iri = licences[data["licence"]].get("iri")
        if iri:
            assert licence == URIRef(iri), entry.id
            assert harvested.value(licence, ns.RDFS.label) is None  # udata would take a label before the IRI
        else:
            assert licence is None and harvested.value(node, ns.DCTERMS.rights) is not None, entry.id

        period = harvested.value(node, ns.DCTERMS.temporal)
        assert not isinstance(period, URIRef)  # a blank node: udata would download an IRI
        start = harvested.value(period, ns.DCAT.startDate)
        assert start.datatype == ns.XSD.date and str(start) == period_date(data["temporal"]["start"])["@value"]
        assert start.toPython().isoformat() == str(start)  # a real date, not the day of a harvest
        if data["temporal"].get("end"):
            end = harvested.value(period, ns.DCAT.endDate)
            assert end.datatype == ns.XSD.date and str(end) == period_date(data["temporal"]["end"], end=True)["@value"]

        spatial = set(harvested.objects(node, ns.DCTERMS.spatial))
        assert spatial == {URIRef(spatial_iri(code)) for code in data.get("spatial") or []}

        distributions = list(harvested.objects(node, ns.DCAT.distribution))
        assert {str(harvested.value(d, ns.DCAT.accessURL)) for d in distributions} == \
               {x["url"] for x in data["distributions"]}
        downloads = {str(u) for d in distributions for u in harvested.objects(d, ns.DCAT.downloadURL)}
        assert downloads == {x["download_url"] for x in data["distributions"] if x.get("download_url")}
        for d in distributions:
            assert isinstance(harvested.value(d, ns.DCTERMS.format), URIRef)


def test_the_periods_of_the_catalogue_as_dates():
    assert period_date("2015") == {"@value": "2015-01-01", "@type": "xsd:date"}
    assert period_date("2020", end=True)["@value"] == "2020-12-31"
    assert period_date("2024-02", end=True)["@value"] == "2024-02-29"
    assert period_date("2019-06-30", end=True)["@value"] == "2019-06-30"


def test_spatial_codes_become_iris():
    assert spatial_iri("pays:FRA") == EU + "country/FRA"
    assert spatial_iri("commune:38185") == "http://id.insee.fr/geo/commune/38185"
    assert spatial_iri("epci:243500139") == "http://id.insee.fr/geo/intercommunalite/243500139"


def test_no_site_address_no_harvestable_catalogue(cat):
    with pytest.raises(ValueError, match="html_baseurl"):
        to_jsonld(cat, "")

"""The sheets' maps, drawn with the labs' own offline maps (`dataquartiers.maps`: no tile, no CDN).

One map document per file of contours (Ille-et-Vilaine, Marseille, Occitanie…), not per sheet: a
lab's map carries its own copy of Leaflet, and 150 such maps would weigh 25 MB and take half a minute
to render. Each document (`atlas/cartes/<resource>.html`) loads the one copy of Leaflet published
beside it and draws every neighbourhood of its file; a sheet shows it in an iframe with
`?quartier=<code>`, and a few lines of script fill that neighbourhood and zoom on it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import folium
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from dataquartiers import data, maps

from .model import Atlas

LEAFLET_FILES = ("leaflet.js", "leaflet.css")
QPV_COLOUR, COMMUNE_COLOUR, QPV_2024_COLOUR = "#1f3a93", "#555555", "#b34700"

class _Focus(MacroElement):
    """Fill the neighbourhood named in the address (?quartier=QP…) and zoom on it. A child of the map
    added last, so that its script runs after folium's has made the map and its layers."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var code = new URLSearchParams(window.location.search).get("quartier");
          if (!code) { return; }
          {{ this.layer }}.eachLayer(function (forme) {
            if (forme.feature && forme.feature.properties.code_qp === code) {
              forme.setStyle({fillColor: "{{ this.colour }}", fillOpacity: 0.45, weight: 4});
              forme.bringToFront();
              {{ this._parent.get_name() }}.fitBounds(forme.getBounds(), {padding: [80, 80], maxZoom: 14});
            }
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: str, colour: str):
        super().__init__()
        self.layer, self.colour = layer, colour


def map_file(resource: str) -> str:
    return f"{resource.replace('_', '-')}.html"


class AtlasMaps:
    """The contours, read once; one map document per file of 2015 contours."""

    def __init__(self, atlas: Atlas, favicon: str | None = None):
        self.atlas = atlas
        self.favicon = favicon  # the site's icon, as seen from cartes/ (None: the site has none)
        self.layers = {name: data.load(name, folder=atlas.folder) for name in atlas.contour_resources}
        self.qpv_2024 = None
        if atlas.contours_2024_resources:
            import geopandas as gpd

            frames = [data.load(n, folder=atlas.folder)[["code_qp", "geometry"]] for n in atlas.contours_2024_resources]
            self.qpv_2024 = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
        self.communes = None
        if "communes_contours_2018" in atlas.resources:
            self.communes = data.load("communes_contours_2018", folder=atlas.folder)

    def map_of(self) -> dict[str, str]:
        """Sheet code → the map document that draws it (file name inside cartes/)."""
        found = {}
        for name, layer in self.layers.items():
            for code in layer["code_qp"].dropna().astype(str):
                found.setdefault(code, map_file(name))
        return found

    def documents(self) -> dict[str, str]:
        return {map_file(name): self.document(name, layer) for name, layer in self.layers.items()}

    def document(self, name: str, layer) -> str:
        title = self.atlas.resources[name].get("title", name)
        m = maps.base_map(layer, height=420)
        if self.communes is not None:
            codes = set()
            for column in ("codes_communes", "code_commune"):
                if column in layer.columns:
                    codes |= {c for v in layer[column].dropna() for c in str(v).split()}
            parents = {s.territory_communes[0][0] for s in self.atlas.sheets.values()
                       if {c for c, _ in s.communes} & codes}
            commune = self.communes[self.communes["code"].isin(codes | parents)]
            if len(commune):
                maps.outline_layer(m, maps.lighten(commune), name="Limites des communes", colour=COMMUNE_COLOUR,
                                   weight=1.2, dash="6 4", tooltip={"nom": "Commune"})
        if self.qpv_2024 is not None:
            west, south, east, north = layer.total_bounds
            near = self.qpv_2024.cx[west:east, south:north]
            if len(near):
                maps.outline_layer(m, maps.lighten(near), name="Quartiers prioritaires 2024", colour=QPV_2024_COLOUR,
                                   weight=2, dash="8 5", tooltip={"code_qp": "Quartier 2024"})
        qpv = maps.lighten(layer[["code_qp", "nom_qp", "geometry"]])
        style = {"color": QPV_COLOUR, "weight": 2, "fillColor": QPV_COLOUR, "fillOpacity": 0.08}
        geojson = folium.GeoJson(json.loads(qpv.to_json(drop_id=True)), name="Quartiers prioritaires 2015",
                                 style_function=lambda _f: style,
                                 tooltip=folium.GeoJsonTooltip(fields=["nom_qp", "code_qp"],
                                                               aliases=["Quartier 2015", "Code"]))
        geojson.add_to(m)
        legend = ('<div class="dq-legend" role="region" aria-label="Légende de la carte"><strong>Légende</strong><ul>'
                  f'<li><span style="background:{QPV_COLOUR}" aria-hidden="true"></span>quartier de la fiche (rempli)</li>'
                  "<li>contour bleu : quartiers prioritaires 2015</li><li>tirets gris : limites des communes</li>"
                  + ("<li>tirets orange : quartiers prioritaires 2024</li>" if self.qpv_2024 is not None else "")
                  + "</ul></div><style>.dq-legend{position:absolute;z-index:1000;right:10px;bottom:24px;"
                  "background:#fff;color:#1a1a1a;padding:6px 10px;border:1px solid #767676;border-radius:4px;"
                  "font:13px/1.35 sans-serif;max-width:45%}.dq-legend ul{list-style:none;margin:4px 0 0;padding:0}"
                  ".dq-legend span{display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:-2px;"
                  "border:1px solid #555}</style>")
        m.get_root().html.add_child(Element(legend), name="dq_legend")
        maps.layer_control(m)
        _Focus(geojson.get_name(), QPV_COLOUR).add_to(m)
        return shared_leaflet_document(m, f"Carte : {title}", self.favicon)


def shared_leaflet_document(m: folium.Map, title: str, favicon: str | None = None) -> str:
    """The map's HTML, French, titled, loading Leaflet from the files beside it instead of inlining it."""
    root = m.get_root()
    header = root.header
    # dataquartiers.maps inlines Leaflet under this name; the shared copy replaces it.
    if "leaflet_inline" in header._children:
        del header._children["leaflet_inline"]
    icon = f'\n<link rel="icon" href="{html.escape(favicon)}">' if favicon else ""  # a page of the site too
    header.add_child(Element('<link rel="stylesheet" href="leaflet.css">\n<script src="leaflet.js"></script>' + icon),
                     name="leaflet_shared", index=1)
    # Opened alone (« Ouvrir la carte seule »), the document is a page of the site: it links back to
    # the atlas and to the accessibility statement like every page's footer; inside its sheet's
    # iframe the sheet's own footer does that, so it hides.
    root.html.add_child(Element(
        '<footer class="bd-footer-content dq-map-footer"><a href="../index.html">Atlas des quartiers</a> · '
        '<a href="../../accessibilite.html">Accessibilité</a></footer>'
        "<style>.dq-map-footer{position:fixed;left:0;bottom:0;z-index:1001;background:#fff;color:#1a1a1a;"
        "padding:4px 10px;font:13px/1.35 sans-serif;border-top-right-radius:4px}"
        ".dq-map-footer a{color:#0b5394}</style>"
        "<script>if (window.self !== window.top) {"
        "document.querySelector('.dq-map-footer').hidden = true;}</script>"), name="dq_site_footer")
    root.title = html.escape(title)
    page = root.render()
    if "<html>" not in page:
        raise RuntimeError("atlas: the map document has no <html> tag to mark as French (folium changed?)")
    # folium's map template forbids zooming on phones (maximum-scale=1.0, user-scalable=no): a page
    # opened alone must let its reader zoom (WCAG 1.4.4)
    page, forbids_zoom = re.subn(r"initial-scale=1\.0,\s*maximum-scale=1\.0,\s*user-scalable=no", "initial-scale=1.0", page)
    if not forbids_zoom:
        raise RuntimeError("atlas: folium's viewport tag changed, check that the map still lets a reader zoom")
    return page.replace("<html>", '<html lang="fr">', 1)


def publish_leaflet(target: Path) -> None:
    """Copy Leaflet (vendored by `make setup`) beside the map documents."""
    target.mkdir(parents=True, exist_ok=True)
    for name in LEAFLET_FILES:
        source = maps.LEAFLET_DIR / name
        if not source.exists():
            raise FileNotFoundError(f"{source} manque : lancez `make setup` (copie de Leaflet depuis npm).")
        shutil.copyfile(source, target / name)

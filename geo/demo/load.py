"""Write the demo city into PostGIS in one transaction (COPY throughout)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import pyproj
import shapely

from geo.boundaries import district, load_districts
from geo.categories import ensure_categories
from geo.crs import metric_epsg, to_metric
from geo.db.audit import record
from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.refresh import refresh_active_grids
from geo.demo.city import City, build_city
from geo.demo.co_building import write_co_building
from geo.demo.db import as_multi, fix_sequence, next_ids, to_wgs
from geo.demo.people import DEMO_END, build_roster
from geo.demo.write_roster import unit_ids_of, write_roster
from geo.errors import InvalidInput
from geo.h3cells import TABLES, fill

DISTRICT = "520602"  # 碧江区, 铜仁市
CENTER = (109.20, 27.73)  # the urban core, well inside the district
SEED = 20240320
Step = Callable[[str], None]


@dataclass
class DemoStats:
    seconds: float
    counts: dict[str, int]


def is_loaded(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM areas WHERE parent_code = %s)",
                        (DISTRICT,)).fetchone()[0]  # type: ignore[index]


def load_demo(conn: psycopg.Connection, seed: int = SEED, scale: int = 1, progress: bool = True,
              step: Step | None = None, actor: str = "system") -> DemoStats:
    t0 = time.monotonic()
    say = step or (print if progress else (lambda _msg: None))
    if scale < 1:
        raise InvalidInput("--scale must be at least 1")
    rng = np.random.default_rng(seed)
    d = district(DISTRICT)
    epsg = metric_epsg(CENTER[0])
    centre = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*CENTER)
    say("laying out streets, communities, grids and buildings")
    city = build_city(rng, DISTRICT, to_metric(d.geom, epsg), centre, epsg, scale)
    say("people, roles and a year of resident issues")
    roster = build_roster(rng, city, scale)
    with conn.transaction():
        if is_loaded(conn):
            raise InvalidInput("the demo city is already loaded in this database")
        for t in ("areas", "grid_layers", "grids", "compounds", "buildings", "people"):
            conn.execute(f"LOCK TABLE {t} IN SHARE ROW EXCLUSIVE MODE")
        ensure_categories(conn)
        say("writing areas and grid layers")
        _write_areas(conn, city)
        grid_ids = _write_grids(conn, city)
        say("writing buildings and facilities")
        bld_ids = _write_buildings(conn, city, grid_ids)
        _write_facilities(conn, city)
        say("writing the walk network")
        _write_network(conn, city)
        say("writing people, roles, party organisations and issues")
        write_roster(conn, city, roster, grid_ids, bld_ids)
        say("writing co-building units' posts, duties, alliances and sites")
        write_co_building(conn, np.random.default_rng(seed + 1), roster.registrations,
                          unit_ids_of(conn, roster))
        _write_totals(conn)
        say("H3 cells of buildings and issues")
        for table in TABLES:
            fill(conn, table)
        refresh_active_grids(conn)
        record(conn, actor, "demo.load", "areas", DISTRICT,
               {"seed": seed, "scale": scale, "streets": len(city.streets),
                "communities": len(city.communities), "grids": len(city.grids),
                "people": len(roster.people)})
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
              for t in ("areas", "grids", "buildings", "facilities", "people", "role_assignments",
                        "resident_issues", "walk_edges", "co_units", "party_orgs")}
    return DemoStats(time.monotonic() - t0, counts)


def _write_areas(conn: psycopg.Connection, city: City) -> None:
    rows: list[tuple[Any, ...]] = []
    present = {r[0] for r in conn.execute("SELECT code FROM areas WHERE level = 'district'")}
    for d in load_districts():
        if d.adcode not in present:
            rows.append((d.adcode, d.name, "district", None, d.geom, None, None, d.source))
    for a in city.streets + city.communities:
        rows.append((a.code, a.name, a.level, a.parent, None, None, None, "gridgov demo (synthetic)"))
    metric = [a.geom for a in city.streets + city.communities]
    wgs = iter(to_wgs(metric, city.epsg))
    geoms = [r[4] if r[4] is not None else as_multi(next(wgs)) for r in rows]
    copy_rows(conn, "areas", ["code", "name", "level", "parent_code", "geom", "source"],
              [(r[0], r[1], r[2], r[3], g, r[7]) for r, g in zip(rows, ewkb_hex(geoms), strict=True)])


def _layer(conn: psycopg.Connection, theme: str, name: str) -> int:
    return conn.execute(
        "INSERT INTO grid_layers (theme, name, scope_code, generation, status, valid_from, note) "
        "VALUES (%s, %s, %s, 1, 'active', %s, 'gridgov demo') RETURNING id",
        (theme, name, DISTRICT, DEMO_END.replace(year=2024, month=1, day=1)),
    ).fetchone()[0]  # type: ignore[index]


def _write_grids(conn: psycopg.Connection, city: City) -> np.ndarray:
    layer = _layer(conn, "unified", "综合网格（党建引领，多网合一）")
    ids = next_ids(conn, "grids", len(city.grids))
    geoms = ewkb_hex([as_multi(g) for g in to_wgs([g.geom for g in city.grids], city.epsg)])
    valid_from = DEMO_END.replace(year=2024, month=1, day=1)
    copy_rows(conn, "grids", ["id", "layer_id", "code", "name", "kind", "dedicated_type",
                              "community_code", "geom", "valid_from"],
              [(int(i), layer, g.code, g.name, g.kind, g.dedicated_type, g.community, wkb,
                valid_from) for i, g, wkb in zip(ids, city.grids, geoms, strict=True)])
    fix_sequence(conn, "grids")
    for theme, grids in city.layers.items():
        lid = _layer(conn, theme, f"{theme}网格（部门）")
        wkbs = ewkb_hex([as_multi(g) for g in to_wgs([x[2] for x in grids], city.epsg)])
        copy_rows(conn, "grids", ["layer_id", "code", "name", "kind", "geom", "valid_from"],
                  [(lid, c, n, "base", w, valid_from) for (c, n, _), w in zip(grids, wkbs,
                                                                              strict=True)])
    fix_sequence(conn, "grids")
    return ids


def _write_buildings(conn: psycopg.Connection, city: City, grid_ids: np.ndarray) -> np.ndarray:
    comp_ids = next_ids(conn, "compounds", len(city.compounds))
    copy_rows(conn, "compounds", ["id", "name", "community_code"],
              [(int(i), nm, city.grids[city.block_grid[b]].community)
               for i, (nm, b) in zip(comp_ids, city.compounds, strict=True)])
    fix_sequence(conn, "compounds")
    ids = next_ids(conn, "buildings", len(city.buildings))
    fps = to_wgs([b.footprint for b in city.buildings], city.epsg)
    pts = ewkb_hex([f.centroid for f in fps])
    rows = []
    for i, b, fp, pt in zip(ids, city.buildings, ewkb_hex(fps), pts, strict=True):
        g = city.block_grid[b.block]
        rows.append((int(i), b.address, int(comp_ids[b.compound]), b.households, b.residents,
                     b.floors, city.grids[g].community, int(grid_ids[g]), fp, pt, "demo"))
    copy_rows(conn, "buildings", ["id", "address", "compound_id", "households", "residents",
                                  "floors", "community_code", "grid_id", "footprint", "geom",
                                  "source"], rows)
    conn.execute("UPDATE compounds c SET geom = s.g FROM (SELECT compound_id, "
                 "ST_Multi(ST_ConvexHull(ST_Collect(footprint))) g FROM buildings "
                 "WHERE compound_id IS NOT NULL GROUP BY compound_id) s WHERE s.compound_id = c.id")
    fix_sequence(conn, "buildings")
    return ids


def _write_facilities(conn: psycopg.Connection, city: City) -> None:
    pts = ewkb_hex(to_wgs([f.point for f in city.facilities], city.epsg))
    copy_rows(conn, "facilities", ["category", "name", "address", "phone", "opening_hours",
                                   "off_hours_service", "floor_area_m2", "community_code", "geom",
                                   "source"],
              [(f.category, f.name, f.address, f.phone, f.hours, f.off_hours, f.floor_area,
                city.grids[city.block_grid[f.block]].community, p, "demo")
               for f, p in zip(city.facilities, pts, strict=True)])


def _write_network(conn: psycopg.Connection, city: City) -> None:
    net = city.network
    assert net is not None
    base = conn.execute("SELECT coalesce(max(id), 0) FROM walk_nodes").fetchone()[0]  # type: ignore[index]
    nodes = to_wgs([shapely.Point(p) for p in net.node_xy], city.epsg)
    copy_rows(conn, "walk_nodes", ["id", "geom", "district_code"],
              [(base + 1 + i, g, DISTRICT) for i, g in enumerate(ewkb_hex(nodes))])
    lines = to_wgs([e[2] for e in net.edges], city.epsg)
    copy_rows(conn, "walk_edges", ["source", "target", "length_m", "highway", "name",
                                   "district_code", "geom"],
              [(base + 1 + a, base + 1 + b, round(line.length, 2), kind, name or None, DISTRICT, w)
               for (a, b, line, kind, name), w in zip(net.edges, ewkb_hex(lines), strict=True)])


def _write_totals(conn: psycopg.Connection) -> None:
    conn.execute("UPDATE grids g SET households = s.h, residents = s.r FROM (SELECT grid_id, "
                 "sum(households) h, sum(residents) r FROM buildings GROUP BY grid_id) s "
                 "WHERE s.grid_id = g.id")
    conn.execute("UPDATE grids SET households = 0, residents = 0 WHERE households IS NULL AND "
                 "layer_id IN (SELECT id FROM grid_layers WHERE theme = 'unified')")
    conn.execute("UPDATE areas a SET households = s.h, residents = s.r FROM (SELECT "
                 "community_code c, sum(households) h, sum(residents) r FROM buildings GROUP BY 1) s "
                 "WHERE a.code = s.c")
    conn.execute("UPDATE areas a SET households = s.h, residents = s.r FROM (SELECT parent_code c, "
                 "sum(households) h, sum(residents) r FROM areas WHERE level = 'community' "
                 "GROUP BY 1) s WHERE a.code = s.c AND a.level = 'street'")
    conn.execute("UPDATE areas a SET households = s.h, residents = s.r FROM (SELECT parent_code c, "
                 "sum(households) h, sum(residents) r FROM areas WHERE level = 'street' "
                 "GROUP BY 1) s WHERE a.code = s.c AND a.level = 'district'")

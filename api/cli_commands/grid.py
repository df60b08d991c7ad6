"""``gridgov grid …``: the planner's drafts from the shell, the same operations as
``/api/v1/drafts`` (validation after every edit, audit rows as ``cli:<user>``).

A command reads and edits inside one transaction that locks the draft, so it cannot work
from a stale copy: it edits with ``If-Match: *``. Grids are named by code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import typer
from psycopg import AsyncConnection

from api.cli import friendly
from geo.auth import User
from geo.db.audit import cli_actor
from geo.db.connect import database_url
from geo.db.queries import drafts as q
from geo.errors import InvalidInput, NotFound
from geo.geometry_input import parse_geometry
from geo.plan import drafts, edit, generations, views
from geo.plan import propose as plan_propose
from geo.plan.model import Rules
from geo.settings import get_settings

app = typer.Typer(help="Draft, edit, validate and activate grid generations.",
                  no_args_is_help=True)
T = TypeVar("T")
ANY = {"*"}


def _run(work: Callable[[AsyncConnection, User], Awaitable[T]]) -> T:
    async def go() -> T:
        url = database_url(get_settings())
        async with await AsyncConnection.connect(url, autocommit=True) as conn:
            return await work(conn, User(0, cli_actor(), "admin", None))
    return asyncio.run(go())


def _rules() -> Rules:
    return Rules.from_settings(get_settings())


def _print(body: Any) -> None:
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))


def _report(result: dict[str, Any]) -> None:
    s = result["metrics"]["draft"]
    typer.echo(f"draft {result.get('draft', result.get('id'))} version {result['version']}: "
               f"{result['errors']} error(s), {result['warnings']} warning(s); "
               f"{s['grids']} grids, {s['within_range']:.0%} of base grids within range, "
               f"mean |deviation| {s['mean_abs_deviation']:.1%}, "
               f"mean Polsby-Popper {s['mean_polsby_popper']:.2f}")
    for f in result["problems"]["features"]:
        p = f["properties"]
        typer.echo(f"  {p['severity']:7s} {p['rule']}: {p['message']}")


async def _key(conn: AsyncConnection, draft_id: int, code: str) -> int:
    for key, (c, _) in (await q.grid_versions(conn, draft_id)).items():
        if c == code:
            return key
    raise NotFound(f"grid {code} is not in draft {draft_id}")


def _geometry(path: Path, types: tuple[str, ...], crs: str | None) -> Any:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable GeoJSON file ({exc})") from None
    if doc.get("type") == "FeatureCollection":
        doc = (doc.get("features") or [{}])[0]
    if doc.get("type") == "Feature":
        doc = doc.get("geometry")
    return parse_geometry(doc, crs, types, str(path))


def _edit(draft_id: int, codes: list[str], action: str, detail: dict[str, Any],
          make: Callable[[list[int]], drafts.Operation], rules: Rules | None = None) -> None:
    async def work(conn: AsyncConnection, user: User) -> dict[str, Any]:
        keys = [await _key(conn, draft_id, c) for c in codes]
        return await drafts.edit(conn, user, None, draft_id, ANY, keys, action, detail,
                                 make(keys), rules or _rules())
    _report(_run(work))


@app.command("open")
@friendly
def open_(scope: str = typer.Argument(..., help="Community (12) or street (9 digits) code"),
          theme: str = typer.Option("unified", "--theme"),
          note: str | None = typer.Option(None, "--note")) -> None:
    """Open a draft of a community or street (a copy of the active generation)."""
    async def work(conn: AsyncConnection, user: User) -> dict[str, Any]:
        draft_id = await drafts.open_draft(conn, user, None, theme, scope, note)
        return await views.draft_view(conn, user, draft_id, _rules())
    _report(_run(work))


@app.command("list")
@friendly
def list_() -> None:
    """Open drafts."""
    for d in _run(views.list_drafts):
        typer.echo(f"{d['id']:>5}  {d['theme']}  {d['draft_scope']}  v{d['version']}  "
                   f"{d['created_by'] or ''}  {d['note'] or ''}")


@app.command("show")
@friendly
def show(draft: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """A draft's problems and metrics."""
    result = _run(lambda conn, user: views.draft_view(conn, user, draft, _rules()))
    _print(result) if as_json else _report(result)


@app.command("split")
@friendly
def split(draft: int, grid: str, line: Path = typer.Option(..., help="GeoJSON LineString"),
          crs: str | None = typer.Option(None, "--crs")) -> None:
    """Split a grid by a line."""
    geom = _geometry(line, ("LineString",), crs)
    _edit(draft, [grid], "split", {"grid": grid, "line": geom.wkt},
          lambda k: partial(edit.split, key=k[0], line=geom))


@app.command("merge")
@friendly
def merge(draft: int, grids: list[str]) -> None:
    """Merge adjacent grids of one community."""
    _edit(draft, grids, "merge", {"grids": grids}, lambda k: partial(edit.merge, keys=k))


@app.command("reshape")
@friendly
def reshape(draft: int, grid: str, geometry: Path = typer.Option(..., help="GeoJSON polygon"),
            crs: str | None = typer.Option(None, "--crs")) -> None:
    """Replace a grid's geometry (snapped to neighbours and the community edge)."""
    geom = _geometry(geometry, ("Polygon", "MultiPolygon"), crs)
    _edit(draft, [grid], "reshape", {"grid": grid},
          lambda k: partial(edit.reshape, key=k[0], geom=geom))


@app.command("move")
@friendly
def move(draft: int, buildings: str = typer.Option(..., help="Building ids, comma-separated"),
         to: str = typer.Option(..., help="Code of the grid that takes them")) -> None:
    """Move buildings to another grid."""
    try:
        ids = [int(x) for x in buildings.split(",") if x.strip()]
    except ValueError:
        raise InvalidInput(f"--buildings: {buildings!r} is not a list of ids") from None
    _edit(draft, [to], "move_buildings", {"buildings": ids, "to": to},
          lambda k: partial(edit.move_buildings, building_ids=ids, target_key=k[0]))


@app.command("dedicated")
@friendly
def dedicated(draft: int, geometry: Path = typer.Option(..., help="GeoJSON polygon"),
              kind: str = typer.Option(..., "--type", help="school, hospital, market …"),
              name: str = typer.Option(...), crs: str | None = typer.Option(None, "--crs")
              ) -> None:
    """Create a dedicated grid (专属网格)."""
    geom = _geometry(geometry, ("Polygon", "MultiPolygon"), crs)
    _edit(draft, [], "dedicated", {"type": kind, "name": name},
          lambda k: partial(edit.dedicated, geom=geom, dedicated_type=kind, name=name))


@app.command("propose")
@friendly
def propose(draft: int, community: str | None = typer.Option(None, "--community"),
            low: int | None = typer.Option(None, "--min", help="Households per grid, at least"),
            high: int | None = typer.Option(None, "--max", help="Households per grid, at most"),
            seed: int = typer.Option(0, "--seed")) -> None:
    """Propose base grids: households within range, contiguous, compact, on streets."""
    rules = Rules.from_settings(get_settings(), households_min=low, households_max=high)
    if rules.households_min > rules.households_max:
        raise InvalidInput("--min must not exceed --max")
    network = _run(lambda conn, user: drafts.network_of(conn, user, draft))
    _edit(draft, [], "propose", {"community": community, "min": low, "max": high, "seed": seed},
          lambda k: partial(plan_propose.propose, community=community, network=network,
                            seed=seed), rules)


@app.command("renumber")
@friendly
def renumber(draft: int, community: str) -> None:
    """Renumber a community's grids west→east, north→south."""
    _edit(draft, [], "renumber", {"community": community},
          lambda k: partial(edit.renumber_community, community=community))


@app.command("activate")
@friendly
def activate(draft: int) -> None:
    """Validate the draft and publish it as the next generation."""
    result = _run(lambda conn, user: generations.activate(conn, user, None, draft, ANY,
                                                          _rules()))
    typer.secho(f"generation {result['generation']} of {result['theme']} is active "
                f"({result['scope']}; was {result['previous']}); moved: {result['moved']}",
                fg=typer.colors.GREEN)


@app.command("diff")
@friendly
def diff(scope: str, a: int = typer.Option(..., "--from"), b: int = typer.Option(..., "--to"),
         theme: str = typer.Option("unified", "--theme")) -> None:
    """What changes between two generations inside an area."""
    _print(_run(lambda conn, user: views.generation_diff(
        conn, user, theme, a, b, scope, get_settings().plan_tolerance_m2))["summary"])


@app.command("revert")
@friendly
def revert(generation: int, scope: str = typer.Option(...),
           theme: str = typer.Option("unified", "--theme")) -> None:
    """Open a draft of an area with an earlier generation's grids."""
    draft_id = _run(lambda conn, user: generations.revert(conn, user, None, theme, generation,
                                                          scope))
    typer.echo(f"draft {draft_id} holds generation {generation}'s grids of {scope}")

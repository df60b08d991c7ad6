"""多网合一: who takes which unified grid. Pure: crosswalk rows and role rows in, a proposal
out, for the planner to accept or edit before activation.

- Every current role held on an old grid (of any layer) is proposed on the unified grid that
  took most of the old grid's households (most of its area when it had none).
- A person who held several roles appears once, with all their duties.
- Unified grids with no grid worker, or with more than ``workers_max``, are flagged.
- The planner accepts the plan post by post (layer, old grid, role → a new grid, or none),
  editing where they choose; the accepted plan replaces the proposal and is applied when the
  draft is activated (``geo.db.queries.merge.apply_posts``).
"""

from __future__ import annotations

from typing import Any

from geo.errors import InvalidInput

Post = tuple[str, str, str]  # layer, old grid code, role
WORKERS = ("grid_worker_full", "grid_worker_part")


def destination(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    """Old grid code → the new grid taking most of its households (else area); None when
    nothing of it went anywhere."""
    best: dict[str, tuple[float, float, str]] = {}
    for r in rows:
        if r["new"] is None:
            continue
        score = (r["household_share"] or 0.0, r["area_share"], r["new"])
        if r["old"] not in best or score[:2] > best[r["old"]][:2]:
            best[r["old"]] = score
    olds = {r["old"] for r in rows}
    return {old: best[old][2] if old in best else None for old in olds}


def posts(roles: list[dict[str, Any]], moves: dict[str, str | None],
          decided: dict[Post, str | None]) -> list[dict[str, Any]]:
    """Every post held on an old grid, with how many hold it, where the rule sends it and
    where it goes (the planner's decision once accepted, else the rule's)."""
    holders: dict[Post, int] = {}
    for r in roles:
        key = (r["layer"], r["grid"], r["role"])
        holders[key] = holders.get(key, 0) + 1
    return [{"layer": layer, "grid": grid, "role": role, "holders": n,
             "proposed": moves.get(f"{layer}/{grid}"),
             "to": decided[(layer, grid, role)] if (layer, grid, role) in decided
             else moves.get(f"{layer}/{grid}")}
            for (layer, grid, role), n in sorted(holders.items())]


def accepted(current: list[dict[str, Any]], edits: list[dict[str, Any]], new_grids: list[str]
             ) -> list[tuple[str, str, str, str | None, bool]]:
    """The plan to store: every post of ``current`` (from ``posts``) at its proposed grid,
    but for the ``edits`` (layer, grid, role, to: a grid of the draft or None); an edit that
    names no current post, or a grid the draft does not have, is refused (nothing stored)."""
    plan = {(p["layer"], p["grid"], p["role"]): (p["proposed"], False) for p in current}
    grids = set(new_grids)
    for i, e in enumerate(edits):
        key = (e["layer"], e["grid"], e["role"])
        if key not in plan:
            raise InvalidInput(f"edits[{i}]: no current {e['role']} post on {e['layer']} grid "
                               f"{e['grid']} in this merge's area")
        if e["to"] is not None and e["to"] not in grids:
            raise InvalidInput(f"edits[{i}].to: {e['to']} is not a grid of this draft")
        plan[key] = (e["to"], True)
    return [(*key, to, edited) for key, (to, edited) in sorted(plan.items())]


def proposal(roles: list[dict[str, Any]], moves: dict[str, str | None], new_grids: list[str],
             workers_max: int, names: bool, decided: dict[Post, str | None] | None = None
             ) -> dict[str, Any]:
    """``roles``: current roles on old grids (person_id, name, role, layer, grid, inside);
    ``moves``: old grid → new grid (``destination`` per layer, keys "layer/grid");
    ``decided``: the planner's accepted plan, which replaces the rule post by post. Without
    ``names`` (or for a person seen only on grids that reach beyond the area) a person is a
    number in this answer, not a name or an id that could be looked up elsewhere."""
    decided = decided or {}
    people: dict[int, dict[str, Any]] = {}
    workers: dict[str, set[int]] = {g: set() for g in new_grids}
    shown = {r["person_id"] for r in roles if names and r["inside"]}
    for r in sorted(roles, key=lambda r: (r["person_id"], r["role"], r["grid"])):
        key = (r["layer"], r["grid"], r["role"])
        to = decided[key] if key in decided else moves.get(f"{r['layer']}/{r['grid']}")
        mine = r["person_id"] in shown
        person = people.setdefault(r["person_id"], {
            "person": len(people) + 1, "person_id": r["person_id"] if mine else None,
            "name": r["name"] if mine else None, "duties": []})
        person["duties"].append({"role": r["role"], "layer": r["layer"], "from": r["grid"],
                                 "to": to})
        if to is not None and r["role"] in WORKERS:
            workers.setdefault(to, set()).add(r["person_id"])
    flags = [{"grid": g, "problem": "no_grid_worker", "workers": 0}
             for g in new_grids if not workers.get(g)]
    flags += [{"grid": g, "problem": "too_many_workers", "workers": len(w)}
              for g, w in sorted(workers.items()) if len(w) > workers_max]
    unplaced = sum(1 for p in people.values() for d in p["duties"] if d["to"] is None)
    return {"people": list(people.values()), "flags": flags, "unplaced_duties": unplaced,
            "workers_max": workers_max, "posts": posts(roles, moves, decided),
            "accepted": bool(decided)}

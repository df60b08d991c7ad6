"""多网合一: who takes which unified grid. Pure: crosswalk rows and role rows in, a proposal
out, for the planner to accept or edit before activation.

- Every current role held on an old grid (of any layer) is proposed on the unified grid that
  took most of the old grid's households (most of its area when it had none).
- A person who held several roles appears once, with all their duties.
- Unified grids with no grid worker, or with more than ``workers_max``, are flagged.
"""

from __future__ import annotations

from typing import Any

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


def proposal(roles: list[dict[str, Any]], moves: dict[str, str | None], new_grids: list[str],
             workers_max: int, names: bool) -> dict[str, Any]:
    """``roles``: current roles on old grids (person_id, name, role, layer, grid, inside);
    ``moves``: old grid → new grid (``destination`` per layer, keys "layer/grid"). Without
    ``names`` (or for a person seen only on grids that reach beyond the area) a person is a
    number in this answer, not a name or an id that could be looked up elsewhere."""
    people: dict[int, dict[str, Any]] = {}
    workers: dict[str, set[int]] = {g: set() for g in new_grids}
    shown = {r["person_id"] for r in roles if names and r["inside"]}
    for r in sorted(roles, key=lambda r: (r["person_id"], r["role"], r["grid"])):
        to = moves.get(f"{r['layer']}/{r['grid']}")
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
            "workers_max": workers_max}

"""Parcels: the buildings of a large community gathered into fewer sites before it is divided.

The auto-proposal grows grids site by site over the cells of the sites (geo.plan.blocks). A
community of one-storey houses, sheds and shops can hold a hundred buildings per grid; it
costs a hundred cells per grid to draw and measure, for boundaries no better than twenty would
give. Where a community has more than SPARSE sites per grid it will hold, its sites are
gathered first:

1. In each street block, centres are spread over its sites by the households
   (``geo.plan.spread``: recursive bisection, every block at once), one per ``share`` of a
   grid's target.
2. The cells are drawn for the centres (the Voronoi diagram of a block's centres, clipped to
   the block: the ground a grid is made of, as for buildings).
3. Every site joins the parcel whose cell covers it (the nearest cell when none does: a
   building recorded in the community but standing outside it, or in a cut-off part of a
   cell). A parcel's households are its sites'.

The grids are then grown over the parcels, and each building goes to the new grid that covers
it (its parcel's grid where none does). Parcels of a quarter of a grid are tried first: a
fraction of the cells to draw, measure and join, and smoother boundaries; where they leave a
grid out of the households range (too coarse to balance it), parcels of a sixteenth
(``SHARES``, tried in that order by ``geo.plan.propose``).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.plan.blocks import Ground, Sites, Streets, _block_of, ground_in_blocks
from geo.plan.model import Rules
from geo.plan.spread import spread_in_groups
from geo.plan.validate import Ints

SPARSE = 40  # sites per grid above which a community is gathered into parcels
SHARES = (1 / 4, 1 / 16)  # a parcel holds about this share of a grid's target households
EMPTY_WEIGHT = 0.25  # a building without households still weighs this much in the spread


def needed(sites: Sites, k: int) -> bool:
    """Whether ``sites`` that will make ``k`` grids are worth gathering."""
    return len(sites) > SPARSE * max(k, 1)


def gathered(free: BaseGeometry, sites: Sites, community: str, epsg: int,
             streets: Streets | BaseGeometry | None, rules: Rules, seed: int,
             share: float = SHARES[-1]) -> tuple[Ground, Sites]:
    """The ground of the parcels of ``sites`` in ``free``, and the parcels as sites (their
    centres, households and buildings); a parcel holds about ``share`` of a grid's target."""
    cap = max(rules.households_target * share, 1.0)
    rng = np.random.default_rng(seed)
    mass = sites.households.astype(np.float64) + EMPTY_WEIGHT

    def centres(block: Ints) -> Ints:
        per = np.bincount(block, weights=mass, minlength=block.max(initial=-1) + 1)
        size = np.bincount(block, minlength=len(per))
        due = np.minimum(size, np.maximum(1, np.ceil(per / cap))).astype(np.intp)
        spread = np.flatnonzero(due < size)  # a block of fewer sites keeps them all
        angle = np.zeros(len(per))
        angle[spread] = rng.uniform(0.0, np.pi, len(spread))
        k = np.where(due < size, due, 0)
        whole = np.flatnonzero(k[block] == 0)
        return np.concatenate([whole, spread_in_groups(sites.xy, mass, block, k, angle)])

    found, chosen = ground_in_blocks(free, sites, community, epsg, streets, centres)
    return found, sites.merged(_owners(found, sites, chosen), chosen)


def _owners(found: Ground, sites: Sites, chosen: list[int]) -> np.ndarray:
    """The parcel of every site: the one whose cell covers it, else the nearest cell (as
    ``blocks._block_of`` places sites in blocks); a centre is in its own parcel."""
    cores = np.asarray(found.cores, dtype=object)
    live = np.flatnonzero(~shapely.is_empty(cores))
    owner = live[_block_of(list(cores[live]), sites.points)]
    owner[chosen] = np.arange(len(chosen))
    return owner

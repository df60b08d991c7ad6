"""Work side by side (geo.plan.parallel): community pieces in worker processes, and what is
sent to them."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely

from geo.errors import InvalidInput
from geo.plan import parallel
from geo.plan.model import Buildings


def _pid_and_square(x: int) -> tuple[int, int]:
    if x < 0:
        raise InvalidInput(f"x: {x} is negative")
    return os.getpid(), x * x


def test_pieces_run_in_worker_processes_in_order() -> None:
    out = parallel.apart(_pid_and_square, [(x,) for x in range(12)])
    assert [sq for _, sq in out] == [x * x for x in range(12)]
    if parallel.CORES > 1:
        assert os.getpid() not in {pid for pid, _ in out}
    assert parallel.apart(_pid_and_square, [(3,)]) == [(os.getpid(), 9)]  # one: inline


def _started_at(x: int) -> tuple[int, float]:
    started = time.monotonic()
    time.sleep(0.05)
    return x, started


def test_the_largest_pieces_go_first_and_results_keep_the_calls_order() -> None:
    sizes = [1, 5, 2, 9, 3, 7]
    out = parallel.apart(_started_at, [(x,) for x in range(6)], sizes=sizes)
    assert [x for x, _ in out] == list(range(6))
    if parallel.CORES > 1:
        started = [t for _, t in out]
        assert started[3] <= started[0] and started[5] <= started[0]  # 9 and 7 before 1


def test_an_error_in_a_worker_reaches_the_caller_as_it_was() -> None:
    with pytest.raises(InvalidInput, match="x: -2 is negative"):
        parallel.apart(_pid_and_square, [(1,), (-2,), (3,)])


def test_buildings_travel_as_columns() -> None:
    sent = Buildings([7, 8, 9], [shapely.Point(106.7, 26.6), None, shapely.Point(106.8, 26.5)],
                     [12, 0, 30], [0, 5, -2], [True, False, False], ["520602001001", None, "x"],
                     [40, 0, 95])
    got = pickle.loads(pickle.dumps(sent))
    assert list(got) == list(sent)  # ids, points (exact), households, grids, heads, communities
    assert got.residents.tolist() == [40, 0, 95]
    assert list(pickle.loads(pickle.dumps(Buildings([], [], [], [])))) == []


def _dies_in_a_worker(parent: int, x: int) -> int:
    if os.getpid() != parent:
        os._exit(1)  # as a worker killed by the system would
    return x + 1


def test_an_edit_survives_a_dead_worker_and_the_next_gets_new_ones() -> None:
    parent = os.getpid()
    assert parallel.apart(_dies_in_a_worker, [(parent, 1), (parent, 2)]) == [2, 3]
    out = parallel.apart(_pid_and_square, [(x,) for x in range(4)])
    assert [sq for _, sq in out] == [0, 1, 4, 9]
    if parallel.CORES > 1:
        assert parent not in {pid for pid, _ in out}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_the_process_that_started_them(how: signal.Signals) -> None:
    script = ("import os, sys, time\n"
              "from geo.plan import parallel\n"
              "if __name__ == '__main__':\n"
              "    pids = parallel.apart(os.getpid, [(), (), (), ()])\n"
              "    print(' '.join(map(str, set(pids))), flush=True)\n"
              "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    workers = [int(p) for p in proc.stdout.readline().split()]  # type: ignore[union-attr]
    assert workers and all(_alive(p) for p in workers)
    proc.send_signal(how)  # SIGTERM: no atexit either (the default handler)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10 * parallel.WATCH_S
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)

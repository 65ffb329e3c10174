"""The benchmark's ratio to the floor measured beside each row (bench/rows.py): which floor
runs a row is compared with, and where the extra floor runs go in a round."""
from bench.rows import FLOOR_EVERY, Row, _with_floor_runs, floor_beside, ratio_beside_floor
from bench.wrk import Load, Result


def result(rps: float) -> Result:
    return Result(requests=int(rps), seconds=1.0, rps=rps, p50_ms=1.0, p99_ms=2.0, non_2xx=0,
                  socket_errors=0, timeouts=0)


def row(key: str, runs: list[tuple]) -> Row:
    """``runs``: (round, position, req/s) of each measured run."""
    made = Row(key, key, "floor" if key == "floor" else "tokenauth", Load("http://x"))
    for number, position, rps in runs:
        made.results.append(result(rps))
        made.ticks.append((number, position))
    return made


def test_the_floor_runs_first_after_every_few_rows_and_last():
    floor, others = row("floor", []), [row(f"r{i}", []) for i in range(2 * FLOOR_EVERY + 1)]
    plan = _with_floor_runs([floor, *others], floor)
    floors = [index for index, item in enumerate(plan) if item is floor]
    assert floors == [0, FLOOR_EVERY + 1, 2 * FLOOR_EVERY + 2, len(plan) - 1]
    assert [item for item in plan if item is not floor] == others
    assert _with_floor_runs(others, None) == others


def test_a_row_is_compared_with_the_floor_runs_next_to_it_in_its_own_round():
    floor = row("floor", [(0, 1, 1000), (0, 6, 2000), (1, 11, 9000), (1, 16, 3000)])
    assert floor_beside(floor, (0, 3)) == 1500      # between the two of round 0
    assert floor_beside(floor, (0, 8)) == 2000      # after round 0's last floor run
    assert floor_beside(floor, (1, 12)) == 6000     # never a run of another round
    assert floor_beside(floor, (2, 20)) is None


def test_the_ratio_is_the_median_of_each_run_over_the_floor_beside_it():
    floor = row("floor", [(0, 1, 1000), (0, 3, 1000), (1, 4, 2000), (1, 6, 2000),
                          (2, 7, 4000), (2, 9, 4000)])
    # Each run over its own round's floor: 0.95, 0.6, 0.4; the median is 0.6. Not 0.4, the
    # best run (1,600) over the floor beside it, which is also the best floor.
    tokenauth = row("cached", [(0, 2, 950), (1, 5, 1200), (2, 8, 1600)])
    assert ratio_beside_floor(tokenauth, floor) == 0.6
    assert ratio_beside_floor(floor, floor) == 1.0
    assert ratio_beside_floor(row("none", []), floor) is None

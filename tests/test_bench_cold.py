"""The cold-cache study's arithmetic (bench/cold.py): a run's start-up cancels out of the
cost per request, and the model weighs cache misses above instructions."""
from bench.cold import EVENTS, LONG, SHORT, cycles, per_request


def test_start_up_cancels_and_each_request_counts_once():
    start_up = dict(zip(EVENTS, range(10**9, 10**9 + 9)))
    each = dict(zip(EVENTS, range(1, 10)))
    short = {name: start_up[name] + SHORT * each[name] for name in EVENTS}
    long = {name: start_up[name] + LONG * each[name] for name in EVENTS}
    assert per_request(short, long) == each


def test_the_model_weighs_a_miss_above_instructions():
    nothing = dict.fromkeys(EVENTS, 0)
    assert cycles(nothing | {"Ir": 3000}) == 1000  # three instructions a cycle
    for l1_miss in ("I1mr", "D1mr", "D1mw"):
        assert cycles(nothing | {l1_miss: 1}) == 12
    for last_level_miss in ("ILmr", "DLmr", "DLmw"):
        assert cycles(nothing | {last_level_miss: 1}) == 45
    assert cycles(nothing | {"Dr": 10**6, "Dw": 10**6}) == 0  # hits cost their instructions

"""The cold-cache study's arithmetic (bench/cold.py): only the counted requests count,
less the writes between them, and the model weighs cache misses above instructions."""
import pytest

from bench.cold import COUNT, COUNTED_CALL, EVENTS, cycles, per_request, read_totals


def test_each_request_counts_once_without_the_writes_between_them():
    writes = dict(zip(EVENTS, range(10**6, 10**6 + 9)))
    each = dict(zip(EVENTS, range(1, 10)))
    counted = {name: writes[name] + COUNT * each[name] for name in EVENTS}
    assert per_request(counted, writes) == each


def test_the_totals_are_read_by_event_name_in_callgrinds_order():
    out = ("version: 1\ncreator: callgrind-3.19.0\n"
           "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
           "fn=(1) main\n5 1 2 3 4 5 6 7 8 9\n"
           "summary: 10 20 30 40 50 60 70 80 90\ntotals: 10 20 30 40 50 60 70 80 90\n")
    assert read_totals(out) == {"Ir": 10, "Dr": 20, "Dw": 30, "I1mr": 40, "D1mr": 50,
                                "D1mw": 60, "ILmr": 70, "DLmr": 80, "DLmw": 90}


def test_a_run_whose_counted_call_never_ran_is_refused():
    out = "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 0 0 0 0 0 0 0 0 0\n"
    with pytest.raises(RuntimeError, match=COUNTED_CALL):
        read_totals(out)


def test_the_model_weighs_a_miss_above_instructions():
    nothing = dict.fromkeys(EVENTS, 0)
    assert cycles(nothing | {"Ir": 3000}) == 1000  # three instructions a cycle
    for l1_miss in ("I1mr", "D1mr", "D1mw"):
        assert cycles(nothing | {l1_miss: 1}) == 12
    for last_level_miss in ("ILmr", "DLmr", "DLmw"):
        assert cycles(nothing | {last_level_miss: 1}) == 45
    assert cycles(nothing | {"Dr": 10**6, "Dw": 10**6}) == 0  # hits cost their instructions

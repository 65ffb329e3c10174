"""The CounterStore contract, for every local store: counts that start at their first hit
and are forgotten a window later, clearing, merging a higher count, peeking."""
import pytest

from tokenauth.security.counters import NO_COUNT, Count, MemoryCounterStore
from tokenauth.security.shared_memory import SharedMemoryCounterStore, create_counter_file


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["memory", "shared memory file", "shared memory, this process"])
def store(request, clock, tmp_path):
    if request.param == "memory":
        made = MemoryCounterStore(clock)
    elif request.param == "shared memory file":
        create_counter_file(tmp_path / "counters.bin")
        made = SharedMemoryCounterStore(tmp_path / "counters.bin", clock)
    else:
        made = SharedMemoryCounterStore(None, clock)
    yield made
    made.close()


def test_counts_expire_a_window_after_their_first_hit(store, clock):
    assert store.add("k", 10) == (1, 10)
    clock.now += 4
    assert store.add("k", 10) == (2, 6)
    assert store.get("k") == store.peek("k") == (2, 6)
    clock.now += 6
    assert store.get("k") == store.peek("k") == NO_COUNT
    assert store.add("k", 10) == (1, 10)  # a new window


def test_clear_forgets_one_key(store):
    store.add("a", 10)
    store.add("b", 10)
    store.clear("a")
    assert store.get("a") == store.peek("a") == NO_COUNT
    assert store.get("b").hits == 1
    store.clear("never counted")


def test_keys_are_counted_apart(store):
    for _ in range(3):
        store.add("login:fail:192.0.2.1", 60)
    assert store.add("verify:192.0.2.1", 60).hits == 1
    assert store.get("login:fail:192.0.2.1").hits == 3


def test_merge_raises_a_count_to_a_higher_one_with_its_end(store, clock):
    store.add("k", 60)
    store.merge("k", Count(7, 12.5))
    assert store.get("k") == store.peek("k") == (7, 12.5)
    store.merge("k", Count(3, 50))  # lower: ignored
    assert store.get("k") == (7, 12.5)
    store.merge("new", Count(2, 5))
    assert store.get("new") == (2, 5)
    clock.now += 5
    assert store.get("new") == NO_COUNT
    store.merge("k", Count(9, 0))  # already over: nothing to keep
    assert store.get("k").hits == 7


def test_the_flag_is_up_for_its_time_and_a_shorter_raise_never_lowers_it(store, clock):
    assert not store.flag_is_up()
    store.raise_flag(30)
    store.raise_flag(5)  # a lock ending sooner: the longer one still holds the flag up
    clock.now += 29.9
    assert store.flag_is_up()
    clock.now += 0.2
    assert not store.flag_is_up()
    store.raise_flag(0.0001)  # the shortest raise still shows
    assert store.flag_is_up()

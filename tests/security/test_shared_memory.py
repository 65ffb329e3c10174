"""The shared-memory counter table: one count for every process that maps the file (real
forked processes), exact under threads, bounded with the right slots evicted, a hash key
of each server's own, and lock-free reads that never show another key's count."""
import multiprocessing
import os
import threading
import time

import pytest

from tokenauth.security import shared_memory
from tokenauth.security.counters import NO_COUNT, Count
from tokenauth.security.shared_memory import (
    SLOTS, SharedMemoryCounterStore, create_counter_file, create_counter_folder,
    open_server_counters)

FORK = multiprocessing.get_context("fork")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def counter_file(tmp_path):
    path = tmp_path / "counters.bin"
    create_counter_file(path)
    return path


@pytest.fixture
def counter_file_one_bucket(tmp_path):
    path = tmp_path / "counters.bin"
    create_counter_file(path, buckets=1)  # every name in the same SLOTS slots
    return path


def _add_many(path, inherited, key, times, results):
    store = inherited if inherited is not None else SharedMemoryCounterStore(path)
    results.put([store.add(key, 60).hits for _ in range(times)])


@pytest.mark.parametrize("opened", ["before the fork", "in each process"])
def test_processes_mapping_one_file_count_exactly_together(counter_file, opened):
    inherited = SharedMemoryCounterStore(counter_file) if opened == "before the fork" else None
    results = FORK.Queue()
    processes = [FORK.Process(target=_add_many, args=(counter_file, inherited, "k", 300, results))
                 for _ in range(4)]
    for process in processes:
        process.start()
    seen = sorted(hit for _ in processes for hit in results.get(timeout=60))
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    # Every hit got its own number: no add was lost or counted twice.
    assert seen == list(range(1, 1201))
    assert SharedMemoryCounterStore(counter_file).get("k").hits == 1200


def _raise_flag(path, seconds):
    SharedMemoryCounterStore(path).raise_flag(seconds)


def test_a_flag_raised_by_one_process_is_up_in_every_other(counter_file):
    """A client locked by one worker is refused by all: the /verify throttle reads the
    flag another worker raised before it reads any count."""
    mine = SharedMemoryCounterStore(counter_file)
    assert not mine.flag_is_up()
    other = FORK.Process(target=_raise_flag, args=(counter_file, 60))
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0
    assert mine.flag_is_up()
    assert SharedMemoryCounterStore(counter_file).flag_is_up()


def test_threads_hammering_one_key_count_exactly(counter_file):
    store = SharedMemoryCounterStore(counter_file)
    barrier = threading.Barrier(8)

    def hammer():
        barrier.wait()
        for _ in range(500):
            store.add("k", 60)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert store.get("k").hits == store.peek("k").hits == 4000


def test_a_full_bucket_gives_up_expired_slots_first_then_the_one_ending_soonest(tmp_path):
    clock = Clock()
    store = SharedMemoryCounterStore(None, clock, buckets=1)  # one bucket: every key meets
    for number in range(SLOTS):
        store.add(f"k{number}", 10 * (number + 1))  # k0 ends first, k7 last
    store.add("new", 100)
    assert store.get("k0") == NO_COUNT
    assert [store.get(f"k{n}").hits for n in range(1, SLOTS)] == [1] * (SLOTS - 1)
    clock.now += 25  # k1 (20 s) has expired; k2 (30 s) is live and ends soonest
    store.add("newer", 100)
    assert store.get("k2").hits == 1
    assert store.get("new").hits == store.get("newer").hits == 1


def test_the_table_holds_its_size_whatever_the_number_of_keys(tmp_path):
    store = SharedMemoryCounterStore(None, Clock(), buckets=4)
    for number in range(1000):
        store.add(f"verify:192.0.2.{number}", 60)
    live = sum(store.get(f"verify:192.0.2.{number}").hits for number in range(1000))
    assert live == 4 * SLOTS


def test_each_counter_file_hashes_with_a_key_of_its_own(tmp_path):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    create_counter_file(first)
    create_counter_file(second)
    assert first.read_bytes()[16:48] != second.read_bytes()[16:48]
    a, b = SharedMemoryCounterStore(first), SharedMemoryCounterStore(second)
    assert a._locate("verify:192.0.2.1") != b._locate("verify:192.0.2.1")


def test_the_masters_folder_is_found_by_the_workers(monkeypatch):
    monkeypatch.delenv(shared_memory.FOLDER_ENV, raising=False)
    folder = create_counter_folder()
    try:
        assert os.environ[shared_memory.FOLDER_ENV] == folder
        worker_a, worker_b = open_server_counters(), open_server_counters()
        worker_a.add("k", 60)
        assert worker_b.get("k").hits == 1
    finally:
        shared_memory._remove_folder(folder, os.getpid())
    assert not os.path.exists(folder)


def test_without_the_folder_counts_stay_in_this_process(monkeypatch, tmp_path):
    monkeypatch.setenv(shared_memory.FOLDER_ENV, str(tmp_path / "gone"))
    first, second = open_server_counters(), open_server_counters()
    assert first.path is None
    first.add("k", 60)
    assert second.get("k") == NO_COUNT


class SwapAfterKeyRead:
    """The table as a lock-free reader sees it when, right after it found its key, a writer
    gives that slot to another name (``swap``)."""

    def __init__(self, words, swap):
        self.words, self.swap, self.swapped = words, swap, False

    def __getitem__(self, index):
        if isinstance(index, int) and not self.swapped:  # the value word, after the keys
            self.swapped = True
            self.swap()
        return self.words[index]


def test_a_lock_free_read_racing_a_slot_swap_never_shows_the_new_names_count(tmp_path):
    path = tmp_path / "counters.bin"
    create_counter_file(path, buckets=1)
    reader, writer = SharedMemoryCounterStore(path), SharedMemoryCounterStore(path)
    for name in [f"other{n}" for n in range(SLOTS - 1)]:
        writer.merge(name, Count(1, 30))
    writer.merge("watched", Count(5, 60))
    assert reader.peek("watched").hits == 5

    def swap():  # "watched" gives up its slot, which a new name takes with 9 hits
        writer.clear("watched")
        writer.merge("newcomer", Count(9, 30))

    reader._words = SwapAfterKeyRead(reader._words, swap)
    assert reader.peek("watched") == NO_COUNT
    assert reader.peek("newcomer").hits == 9


def _churn(path, stop_at, done):
    """Other names taking and giving up the slots beside "watched", as fast as they can."""
    store, n = SharedMemoryCounterStore(path), 0
    while time.monotonic() < stop_at:
        name = f"churn{n % 20}"
        store.add(name, 60)
        store.clear(name)
        n += 1
    done.put(n)


def test_reads_without_the_lock_see_a_count_exactly_while_another_process_writes_beside_it(
        counter_file_one_bucket):
    """``get`` (the check before every database lookup) takes no lock: the writes of another
    worker to the same bucket never make it miss or misread a locked client's count."""
    store = SharedMemoryCounterStore(counter_file_one_bucket)
    store.merge("watched", Count(5, 600))
    done = FORK.Queue()
    writer = FORK.Process(target=_churn, args=(counter_file_one_bucket, time.monotonic() + 2, done))
    writer.start()
    seen, reads = set(), 0
    while writer.is_alive() and reads < 2_000_000:  # for the writer's whole 2 s
        seen.add(store.get("watched").hits)
        reads += 1
    writes = done.get(timeout=30)
    writer.join(timeout=30)
    assert writer.exitcode == 0 and writes > 1000 and reads > 1000
    assert seen == {5}

"""The remembered process id follows forks: a forked worker must start its own threads."""
import os
import threading
import time
import weakref

import pytest

from tokenauth import process


def test_pid_is_this_process_id():
    assert process.pid() == os.getpid()


def test_a_forked_child_sees_its_own_id():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports what it sees, then leaves without cleanup
        os.write(write, f"{process.pid()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    seen, actual = os.read(read, 100).decode().split()
    os.close(read)
    os.waitpid(child, 0)
    assert int(seen) == int(actual) == child != process.pid()


def test_a_thread_is_ended_once_it_has_returned():
    if not process.can_tell_ended_threads():
        pytest.skip("this system does not list a process's threads")
    ids = []
    thread = threading.Thread(target=lambda: ids.append(threading.get_native_id()))
    thread.start()
    thread.join()  # may return just before the system thread is gone
    deadline = time.monotonic() + 5
    while not process.thread_ended(ids[0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.thread_ended(ids[0])
    assert not process.thread_ended(threading.get_native_id())


def test_in_forked_children_calls_a_living_object_and_forgets_a_dead_one():
    class Renewed:
        renewed = False

        def renew(self):
            self.renewed = True

    living, dead = Renewed(), Renewed()
    process.in_forked_children(living.renew)
    process.in_forked_children(dead.renew)
    dead_ref = weakref.ref(dead)
    del dead
    assert dead_ref() is None  # registering kept no strong reference to it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, b"yes" if living.renewed else b"no")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 10)
    os.close(read)
    os.waitpid(child, 0)
    assert answer == b"yes" and not living.renewed  # only in the child

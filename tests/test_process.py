"""The remembered process id follows forks: a forked worker must start its own threads."""
import os

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

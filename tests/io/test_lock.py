"""RunLock: one process per run; the refusal names the owner; a killed owner frees it."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from vulntune.io.lock import LOCK_NAME, RunLock, RunLockedError, lock_is_held

# A child that takes the lock, says so, and holds it until it is killed or stdin closes.
_HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vulntune.io.lock import RunLock

    lock = RunLock(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    lock.release()
    print("released", flush=True)
    """
)


def _start_holder(run_dir: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "locked\n"
    return child


def test_a_held_lock_is_refused_naming_the_owner_pid(tmp_path):
    child = _start_holder(tmp_path)
    try:
        with pytest.raises(RunLockedError) as err:
            RunLock(tmp_path).acquire()
        assert str(err.value) == (
            f"run {tmp_path} is already being trained by pid {child.pid} on "
            f"{socket.gethostname()}; wait for it to finish or stop that process"
        )
    finally:
        child.communicate("")  # closing stdin lets the holder release and exit
    assert child.returncode == 0
    with RunLock(tmp_path) as lock:  # free again after an orderly release
        assert (
            tmp_path / LOCK_NAME
        ).read_text() == f"pid {os.getpid()} on {socket.gethostname()}\n"
        assert lock.path == tmp_path / LOCK_NAME


def test_the_lock_is_free_after_its_owner_is_sigkilled(tmp_path):
    child = _start_holder(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    # The dead owner's pid is still in the file, but the kernel dropped its flock.
    assert f"pid {child.pid} " in (tmp_path / LOCK_NAME).read_text()
    lock = RunLock(tmp_path)
    lock.acquire()
    try:
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} on ")
    finally:
        lock.release()


def test_a_second_holder_in_the_same_process_is_refused_too(tmp_path):
    with RunLock(tmp_path), pytest.raises(RunLockedError, match=f"pid {os.getpid()} "):
        RunLock(tmp_path).acquire()
    with RunLock(tmp_path):  # released by the context manager, even after the refusal
        pass


def test_release_empties_the_owner_record(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    lock.release()
    assert (tmp_path / LOCK_NAME).read_text() == ""  # the file stays; nobody owns the run
    lock.release()  # releasing twice is harmless


def test_the_owner_is_released_when_the_body_raises(tmp_path):
    with pytest.raises(ZeroDivisionError), RunLock(tmp_path):
        1 / 0  # noqa: B018
    with RunLock(tmp_path):
        pass


def test_lock_is_held_while_another_process_trains(tmp_path):
    assert not lock_is_held(tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()  # asking creates nothing
    child = _start_holder(tmp_path)
    try:
        assert lock_is_held(tmp_path)
        assert lock_is_held(tmp_path)  # asking does not take the lock away or keep it
    finally:
        child.communicate("")
    assert not lock_is_held(tmp_path)  # released: the empty lock file alone means nothing


def test_a_killed_owner_leaves_a_pid_but_no_held_lock(tmp_path):
    child = _start_holder(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert f"pid {child.pid} " in (tmp_path / LOCK_NAME).read_text()
    assert not lock_is_held(tmp_path)


def test_lock_is_held_in_the_same_process_too(tmp_path):
    with RunLock(tmp_path):
        assert lock_is_held(tmp_path)
    assert not lock_is_held(tmp_path)


def test_a_trainer_is_not_refused_because_someone_was_looking(tmp_path):
    # A probe (like `runs list`) holds the lock for an instant; acquire waits it out.
    probe = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    releaser = threading.Timer(0.05, os.close, args=(probe,))
    releaser.start()
    try:
        with RunLock(tmp_path):
            assert (tmp_path / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} on ")
    finally:
        releaser.join()

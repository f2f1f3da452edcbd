"""A per-run lock so that two processes never train the same run at once.

It is an ``flock`` on ``<run>/.lock``: the kernel releases it when the owner dies (even on
SIGKILL), so a crashed run never leaves a stale lock behind. The owner's pid is written into
the file so that a refused second process can say who holds it. ``lock_is_held`` tells readers
(``vulntune runs list``) whether a run is being trained right now.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from vulntune.errors import VulntuneError

LOCK_NAME = ".lock"
# How long `acquire` retries a lock that is taken before refusing. A trainer holds the lock for
# minutes; `lock_is_held` holds it for microseconds, and must not make a trainer give up.
_ACQUIRE_GRACE_S = 0.25
_RETRY_S = 0.01


class RunLockedError(VulntuneError):
    """Another process is already working on this run."""


class RunLock:
    """Context manager holding the exclusive lock of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise RunLockedError naming the owner."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _ACQUIRE_GRACE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(_RETRY_S)
                    continue
                owner = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise RunLockedError(
                    f"run {self.path.parent} is already being trained by {owner}; "
                    "wait for it to finish or stop that process"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (the file stays; an unlocked file means nobody owns the run)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_is_held(run_dir: Path) -> bool:
    """Whether a process holds ``run_dir``'s lock right now, i.e. the run is being trained.

    The kernel's answer, not the pid in the file (which outlives a killed owner): a shared
    ``flock`` is tried without blocking on a separate descriptor and released at once. Nothing
    is created; a run that never trained has no lock file and is not held.
    """
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the descriptor also drops the probe's shared lock
    return False

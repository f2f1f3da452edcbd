"""Keeping Python's cyclic garbage collector off the findings of a large ingest.

An ingest of a 50 MB SARIF file builds a few hundred thousand objects (findings, locations,
lists) that hold no reference cycles: reference counting frees them. The cyclic collector
does not know that. While they are built it runs a full collection again and again as their
number grows, and at interpreter exit it walks them once more before the process may end;
together that costs as much time as parsing the file. So:

- :func:`paused_collector` pauses the collector while findings are built (automatic
  collections only; the previous state comes back afterwards, also on errors);
- :func:`exempt_while_alive` moves everything the collector tracks into its permanent
  generation (:func:`gc.freeze`) for as long as the report that owns the findings is alive,
  and moves it back (:func:`gc.unfreeze`) when the report is freed. Frozen objects are still
  freed by reference counting; only cycles among them wait for the report to go.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    """Automatic cyclic collections are off inside the block (restored on exit)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def exempt_while_alive(owner: object) -> None:
    """Freeze what the collector tracks now (``owner`` and what it holds among it) until
    ``owner`` is freed. Not at interpreter exit: then the frozen objects must stay out of
    the final collections, which is the point."""
    gc.freeze()
    release = weakref.finalize(owner, gc.unfreeze)
    release.atexit = False

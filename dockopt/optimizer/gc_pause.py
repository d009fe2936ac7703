"""Rewriting a file with Python's cyclic garbage collector paused.

A run builds hundreds of thousands of small objects that live until the file is done: the
nodes of each round's tree, the words and commands of every RUN. The cyclic collector runs
every few hundred allocations and, as the heap grows, walks all of it again and again; on
a heredoc of 100,000 commands that was 45% of the time spent building them, and it finds
nothing: these objects form no reference cycles, and reference counting frees them. So the
collector waits until the file is done (and collects then as usual); a caller that has
paused it already, or turned it off, keeps it that way.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

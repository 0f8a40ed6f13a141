"""Reading a stream's next pages while the current one is landed.

The source's wait (a socket, a driver) and the store's (an insert, a commit) overlap, which is
most of a bulk stream's time; both release the interpreter while they wait. The pages still
reach the caller one by one and in order, each with the state it was read with, so "a page and
its state commit together" holds exactly as without the overlap: what was read ahead of a crash
was never committed and is read again next time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")

DEPTH = 2
"""Pages read ahead at most: enough to keep the source busy, few enough to stay small."""

_POLL_S = 0.1


class _End:
    """The reader is done, or failed with ``error``."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetched(pages: Iterable[T], depth: int = DEPTH) -> Iterator[T]:
    """``pages`` in order, read by a thread of their own at most ``depth`` ahead.

    An error of the reader is raised here, where the page it would have been; when the caller
    stops early (an error while landing, a kill of the run), the reader is asked to stop after
    its current page and is closed in its own thread.
    """
    queue: Queue[T | _End] = Queue(maxsize=depth)
    stopping = threading.Event()

    def offer(item: T | _End) -> bool:
        while not stopping.is_set():
            try:
                queue.put(item, timeout=_POLL_S)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        iterator = iter(pages)
        try:
            for page in iterator:
                if not offer(page):
                    return
            offer(_End())
        except BaseException as exc:  # handed to the caller, who raises it
            offer(_End(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="kpihub-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = queue.get(timeout=_POLL_S)
            except Empty:
                if not reader.is_alive() and queue.empty():
                    raise RuntimeError("the stream reader stopped without a word") from None
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stopping.set()
        reader.join()

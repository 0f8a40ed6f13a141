"""Fetch side by side, hand over in order.

A reader's pages carry the state to commit with them, and a re-run after a kill must land exactly
what a clean run lands, so pages leave a reader in one fixed order whatever order their requests
finished in. These helpers let a reader keep several requests in flight (the rate budget, not
the round trip, is then what bounds it) while its pages still come out one after another.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()


def in_order(tasks: Iterable[Callable[[], T]], workers: int, ahead: int = 0) -> Iterator[T]:
    """Run ``tasks`` on up to ``workers`` threads and yield their results in the tasks' order.

    At most ``ahead`` tasks (twice ``workers`` by default) are started before the consumer has
    taken their results, so memory stays bounded however long the stream. A task that raised
    raises where its result would have come, and an error of ``tasks`` itself (a listing that
    failed) after the tasks it gave before: the results before it come out first, as they would
    have one after another. Closing the iterator early (a failed landing, a kill) cancels the
    tasks not yet started and waits for those running, so no request outlives the read."""
    if workers <= 1:
        for task in tasks:
            yield task()
        return
    limit = max(ahead or 2 * workers, workers)
    pending: deque[Future[T]] = deque()
    source = iter(tasks)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
    failed: Exception | None = None
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    task = next(source, None)
                except Exception as exc:  # raised in its turn, after the tasks before it
                    failed, task = exc, None
                if task is None:
                    exhausted = True
                else:
                    pending.append(pool.submit(task))
            if not pending:
                if failed is not None:
                    raise failed
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        close = getattr(source, "close", None)
        if close is not None:
            close()


def ahead_of(items: Iterator[T], buffer: int) -> Iterator[T]:
    """``items`` produced on a thread of their own, up to ``buffer`` ahead of the consumer.

    For a walk whose next step needs the previous answer (a cursor) and whose results feed other
    requests: it runs at its own API's pace instead of waiting each time for the consumer.
    Its items and its error, if any, come out in order; closing the iterator stops the walk."""
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=buffer)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="walk", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield cast(T, item)
    finally:
        stop.set()
        worker.join()

"""Reading ahead: the same pages in the same order, errors where they happened, a reader closed
when its caller stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pipelines.prefetch import prefetched


def test_pages_arrive_in_order_and_the_reader_runs_ahead_at_most_its_depth() -> None:
    read: list[int] = []
    handed: list[int] = []

    def pages() -> Iterator[int]:
        for n in range(10):
            read.append(n)
            yield n

    for page in prefetched(pages(), depth=2):
        handed.append(page)
        # Read ahead by the queue's depth, plus the page waiting to be put into it.
        assert len(read) - len(handed) <= 3
    assert handed == list(range(10))


def test_an_error_of_the_reader_is_raised_after_the_pages_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("page 3: connection failed after retries")

    handed: list[int] = []
    with pytest.raises(ConnectionError, match="page 3: connection failed after retries"):
        for page in prefetched(pages()):
            handed.append(page)
    assert handed == [1, 2]


def test_a_caller_stopping_early_closes_the_reader_in_its_own_thread() -> None:
    closed_in: list[str] = []

    def pages() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed_in.append(threading.current_thread().name)

    stream = prefetched(pages())
    assert next(stream) == 0
    stream.close()
    assert closed_in == ["kpihub-prefetch"]

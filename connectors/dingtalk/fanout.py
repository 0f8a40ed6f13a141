"""Walks run side by side, pages numbered as if they had run one after another.

Most DingTalk reads are many independent walks (a window x a batch of users paged by offset, a
department's members paged by cursor) whose pages are numbered on from one walk to the next.
Each walk is one task; its pages and its error, if any, come back to the reader in the walks'
order and are numbered there, so the pages and the page an error names are the same as a walk
one after another would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from connectors.sdk.errors import StreamError
from connectors.sdk.parallel import in_order

T = TypeVar("T")

Walk = Callable[[], Iterator[T]]
"""One walk: its pages in order; a ``StreamError`` it raises names its page counted from 1."""


@dataclass
class _Walked(Generic[T]):
    pages: list[T] = field(default_factory=list)
    error: BaseException | None = None


def _walk(walk: Walk[T]) -> _Walked[T]:
    walked: _Walked[T] = _Walked()
    try:
        for page in walk():
            walked.pages.append(page)
    except Exception as exc:  # raised by the reader after the pages before it
        walked.error = exc
    return walked


def numbered_walks(walks: Iterable[Walk[T]], workers: int) -> Iterator[tuple[int, T]]:
    """(page number, page) of every walk, walks in order and numbered on from each other;
    ``workers`` walks at a time."""
    number = 0
    for walked in in_order(((lambda w=w: _walk(w)) for w in walks), workers):
        base = number
        for page in walked.pages:
            number += 1
            yield number, page
        error = walked.error
        if isinstance(error, StreamError):
            raise StreamError(error.source, error.stream, base + error.page, error.reason)
        if error is not None:
            raise error

"""`read_ahead`: the next input chunk is read on a thread of its own while the current one is
encoded; order, errors and early stops behave as if there were no thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from batok.jobs.prefetch import read_ahead


def test_items_come_in_order() -> None:
    assert list(read_ahead(iter(range(1000)))) == list(range(1000))


def test_an_error_is_raised_where_it_happened() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("record 3 is bad")

    got = []
    with pytest.raises(ValueError, match="record 3"):
        for x in read_ahead(items()):
            got.append(x)
    assert got == [1, 2]


def test_the_reader_runs_at_most_depth_ahead() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for i in range(100):
            made.append(i)
            yield i

    it = read_ahead(items(), depth=1)
    assert next(it) == 0
    time.sleep(0.2)
    # One item waiting in the queue and one being handed over: never the whole input.
    assert len(made) <= 3
    it.close()


def test_stopping_early_stops_the_reader_thread() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    it = read_ahead(endless())
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()
    assert threading.active_count() == before


def test_the_next_item_is_read_while_the_consumer_holds_this_one() -> None:
    reading_second = threading.Event()

    def items() -> Iterator[int]:
        yield 0
        reading_second.set()
        yield 1

    it = read_ahead(items())
    assert next(it) == 0
    # The consumer has not asked for the next item, yet its reading has begun.
    assert reading_second.wait(timeout=30)
    assert list(it) == [1]

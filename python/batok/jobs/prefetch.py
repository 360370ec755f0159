"""Reading ahead: the next chunk of input is read and parsed on a thread of its own while the
current one is encoded, so the cores do not wait for the reader between chunks.

The reader's work (decompression, JSON parsing, Parquet decoding) runs in Rust or Arrow with
the GIL released, as does the encoding, so the two overlap. At most `depth` chunks wait,
which keeps memory bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = range(3)


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced on a background thread up to `depth` ahead of the consumer. An
    exception in the producer is raised in the consumer at the same place in the sequence;
    when the consumer stops early, the producer stops after the item it is making."""
    slots: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: int, value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(_ITEM, item):
                    return
            put(_END, None)
        except BaseException as err:  # handed to the consumer, which raises it
            put(_ERROR, err)

    worker = threading.Thread(target=produce, name="batok-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]
            elif kind == _END:
                return
            else:
                assert isinstance(value, BaseException)
                raise value
    finally:
        stop.set()
        worker.join()

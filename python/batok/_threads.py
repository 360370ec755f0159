"""How many threads batch calls use: an explicit argument, else `BATOK_NUM_THREADS`, else all
cores (0). A count above `max_threads()` (4 per CPU this process may use) is taken as that many:
more threads would only take turns on the same CPUs, and a huge count would try to start them
all."""

from __future__ import annotations

import os

from ._batok import max_threads

ENV_VAR = "BATOK_NUM_THREADS"


def resolve_num_threads(num_threads: int | None) -> int:
    if num_threads is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            return 0
        try:
            num_threads = int(raw)
        except ValueError:
            raise ValueError(
                f"{ENV_VAR}={raw!r} is not an integer; set it to a thread count (0 = all cores)"
            ) from None
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(
            f"num_threads must be a non-negative int (0 = all cores), got {num_threads!r}"
        )
    # Clamped here too, so that a count beyond the engine's integer range is not an OverflowError.
    return min(num_threads, max_threads())

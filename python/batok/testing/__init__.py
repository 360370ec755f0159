"""Test helpers shipped with batok, so users can test their own code against a local hub.

:class:`batok.testing.hub.LoopbackHub` is a real HTTP hub on loopback with gated and private repos,
a separate file host, and fault injection. ``python -m batok.testing.hub`` (or ``batok serve-hub``)
runs one from a folder.
"""

from __future__ import annotations

__all__ = ["LoopbackHub"]


def __getattr__(name: str) -> object:
    # Lazy, so `import batok.testing` costs nothing until the hub is used.
    if name == "LoopbackHub":
        from .hub import LoopbackHub

        return LoopbackHub
    raise AttributeError(name)

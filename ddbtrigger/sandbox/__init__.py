"""A local AWS where triggers really run: moto's server plus the fidelity fixes ddbtrigger needs.

``Sandbox`` (a context manager yielding ``endpoint_url``) is imported lazily, so importing this package
does not import moto.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddbtrigger.sandbox.server import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from ddbtrigger.sandbox.server import Sandbox

        return Sandbox
    raise AttributeError(name)

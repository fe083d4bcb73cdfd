"""Counts the AWS API calls of a benchmarked subprocess (on ``PYTHONPATH`` only when asked).

When ``BENCH_CALLS_FILE`` is set, every botocore session created in this process gets a ``before-call``
event hook, and at exit the counts per ``service.Operation`` are written to that file as JSON. botocore
is not imported here: the hook is installed when the program imports ``botocore.session`` itself, so a
program that never talks to AWS pays nothing.
"""

from __future__ import annotations

import os

if os.environ.get("BENCH_CALLS_FILE"):
    import atexit
    import collections
    import importlib.abc
    import importlib.util
    import json
    import sys
    import threading
    from typing import Any

    _counts: collections.Counter[str] = collections.Counter()
    _lock = threading.Lock()

    def _on_call(model: Any = None, **_: Any) -> None:
        with _lock:
            _counts[f"{model.service_model.service_name}.{model.name}"] += 1

    def _patch(module: Any) -> None:
        original = module.Session.__init__

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            self.register("before-call", _on_call)

        module.Session.__init__ = __init__

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name != "botocore.session":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            loader: Any = spec.loader if spec else None
            if loader is not None:
                exec_module = loader.exec_module

                def patched(module: Any) -> None:
                    exec_module(module)
                    _patch(module)

                loader.exec_module = patched
            return spec

    def _write() -> None:
        with open(os.environ["BENCH_CALLS_FILE"], "w") as handle:
            json.dump(dict(_counts), handle)

    sys.meta_path.insert(0, _Finder())
    atexit.register(_write)

"""Redeploying a function's code in the sandbox: ``aws lambda update-function-code``.

The deployment package is a zip holding the Python module the function's ``Handler`` setting names
(``app.handler`` -> ``app.py``, function ``handler``), as for Lambda's Python runtime. After moto has
stored the new code (a ``ZipFile`` or an ``S3Bucket``/``S3Key``), the module is loaded from the package
and replaces the function's handler; the next invoke, from the Invoke API or a mapping, runs it. Nothing
else changes: the mappings keep their positions, the streams and destinations their contents.
"""

from __future__ import annotations

import logging
from typing import Any

from ddbtrigger.sandbox.handlers import HandlerRegistry, load_zip_handler
from ddbtrigger.sandbox.patching import Patcher

log = logging.getLogger("ddbtrigger.sandbox.invocations")


def _update_code_patch(registry: HandlerRegistry, original: Any) -> Any:
    def update_function_code(backend: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        response = original(backend, function_name, qualifier, body)
        if body.get("DryRun"):
            return response
        fn = backend.get_function(function_name)
        package = getattr(fn, "code_bytes", None)
        if package:
            registry.set(fn.function_name, load_zip_handler(fn.function_name, package, fn.handler))
            log.info("%s: new code deployed (handler %s)", fn.function_name, fn.handler)
        return response

    return update_function_code


def install_redeploy(patcher: Patcher, registry: HandlerRegistry) -> None:
    """Patch moto's UpdateFunctionCode for the sandbox's lifetime."""
    from moto.awslambda.models import LambdaBackend

    patcher.set(
        LambdaBackend,
        "update_function_code",
        _update_code_patch(registry, LambdaBackend.update_function_code),
    )

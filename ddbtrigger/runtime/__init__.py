"""Running user code on this machine the way AWS would (``local_lambda``: Lambda's Python runtime)."""

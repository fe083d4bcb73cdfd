"""ddbtrigger's benchmarks: every hot path measured side by side against its floor (see BENCHMARKS.md).

Run ``python -m bench all`` (or ``--quick``, or one benchmark by name) from the repository root;
``python -m bench compare BASE HEAD`` compares two commits.
"""

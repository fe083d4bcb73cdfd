"""Runs ``floor_cli`` as the ``ddbtrigger`` console script runs ddbtrigger: a two-line script that imports
the app from a module, so the app's code loads from the bytecode cache (a script run directly is
compiled on every run, which would make the floor slower than it need be)."""

from floor_cli import app

app()

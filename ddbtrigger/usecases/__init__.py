"""Use cases: what a command does, composed from core logic and AWS adapters passed in."""

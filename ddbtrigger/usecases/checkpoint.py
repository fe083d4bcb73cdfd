"""A replay checkpoint on disk, written so that a kill at any moment leaves a valid one.

Each save writes the whole document to a temporary file in the same directory, fsyncs it, renames it
over the checkpoint (``os.replace`` is atomic on POSIX and Windows) and fsyncs the directory, so the
rename itself survives a power cut. A kill before the rename leaves the previous checkpoint as it was
(and at worst a stray ``.tmp`` file, ignored and overwritten next time); a kill after it leaves the new
one. Never a half-written file.

The model (what to skip, what to record, which replay a checkpoint belongs to) is
``core.checkpoint``; this module only moves it to and from disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ddbtrigger.core.checkpoint import Checkpoint, CheckpointError, ReplayIdentity
from ddbtrigger.errors import DdbtError, UsageError

MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024


class CheckpointFile:
    """One checkpoint file. ``replace`` is injectable so tests can kill a save before the rename."""

    def __init__(self, path: Path, *, replace: Callable[[str, str], None] = os.replace) -> None:
        self.path = path
        self._replace = replace

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, or ``None`` when there is none yet; a bad file is a usage error."""
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_CHECKPOINT_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise UsageError(f"{self.path}: cannot read the checkpoint: {e.strerror}") from None
        try:
            return Checkpoint.from_json(json.loads(raw))
        except (ValueError, CheckpointError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise UsageError(
                f"{self.path}: not a usable replay checkpoint ({e}); remove it to start the replay over"
            ) from None

    def resume(self, identity: ReplayIdentity) -> Checkpoint:
        """The checkpoint to continue from: the saved one if it is this replay's, else a fresh one.

        A checkpoint of another replay (stream, window, selection, function) is a usage error that
        says what differs: resuming it would skip records this replay never sent.
        """
        saved = self.load()
        if saved is None:
            return Checkpoint(identity)
        try:
            saved.check(identity)
        except CheckpointError as e:
            raise UsageError(f"{self.path}: {e}") from None
        return saved

    def save(self, checkpoint: Checkpoint) -> None:
        """Write atomically: temp file, fsync, rename over the old one, fsync the directory."""
        directory = self.path.parent
        body = json.dumps(checkpoint.as_json(), indent=1).encode()
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as e:
            raise DdbtError(f"{self.path}: cannot write the checkpoint: {e.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            self._replace(temp, str(self.path))
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if isinstance(e, OSError):
                raise DdbtError(f"{self.path}: cannot write the checkpoint: {e.strerror}") from None
            raise
        _fsync_directory(directory)

    def remove(self) -> None:
        """Forget the checkpoint (a replay that finished has nothing to resume)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some platforms (Windows) cannot open a directory, which is fine there."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

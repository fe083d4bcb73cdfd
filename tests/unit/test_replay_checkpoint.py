"""The replay checkpoint: what a resumed run skips, what it records, and which replay it belongs to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbtrigger.core.checkpoint import (
    Checkpoint,
    CheckpointError,
    ReplayIdentity,
    acknowledged_through,
)
from ddbtrigger.core.windows import TimeWindow
from ddbtrigger.errors import DdbtError, UsageError
from ddbtrigger.usecases.checkpoint import CheckpointFile

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-02T00:00:00.000"
IDENTITY = ReplayIdentity(STREAM, TimeWindow(1000.0, 2000.0), "orders-audit", {"keys": {"pk": ["a"]}})


def rec(seq: str) -> dict[str, Any]:
    return {"dynamodb": {"SequenceNumber": seq}}


def test_sequence_numbers_compare_as_integers() -> None:
    checkpoint = Checkpoint(IDENTITY).advance("s1", "900")
    records = [rec("800"), rec("900"), rec("1000"), rec("10000")]  # "1000" < "900" as text
    assert checkpoint.pending("s1", records) == [rec("1000"), rec("10000")]
    assert checkpoint.pending("s2", records) == records  # another shard: nothing acknowledged
    assert checkpoint.advance("s1", "850") is checkpoint  # never backwards
    assert checkpoint.advance("s1", "1000").positions == {"s1": "1000"}


@pytest.mark.parametrize(
    ("delivered", "failed", "expected"),
    [
        (True, (), "30"),
        (False, (), None),  # a whole-batch failure acknowledges nothing
        (False, ("20",), "10"),  # partial: through the record before the lowest failure
        (False, ("30", "20"), "10"),
        (False, ("10",), None),
        (False, ("99",), None),  # not in the batch: malformed, nothing acknowledged
        (False, ("20", "99"), None),
    ],
)
def test_acknowledged_through(delivered: bool, failed: tuple[str, ...], expected: str | None) -> None:
    assert acknowledged_through(["10", "20", "30"], delivered=delivered, failed_items=failed) == expected


def test_another_replay_is_refused_with_what_differs() -> None:
    checkpoint = Checkpoint(IDENTITY)
    checkpoint.check(
        ReplayIdentity(STREAM, TimeWindow(1000.0, 2000.0), "orders-audit", {"keys": {"pk": ["a"]}})
    )
    other_window = ReplayIdentity(STREAM, TimeWindow(1060.0, 2060.0), "orders-audit", IDENTITY.selection)
    with pytest.raises(CheckpointError, match=r"window 1970-01-01T00:17:40Z .. .*the checkpoint's is 1970"):
        checkpoint.check(other_window)
    other_stream = ReplayIdentity(STREAM + "x", IDENTITY.window, "orders-audit", IDENTITY.selection)
    with pytest.raises(CheckpointError, match=r"stream .*x \(the checkpoint's is"):
        checkpoint.check(other_stream)
    other_keys = ReplayIdentity(STREAM, IDENTITY.window, "orders-audit", {"keys": {"pk": ["b"]}})
    with pytest.raises(CheckpointError, match="keys, filters or events differ"):
        checkpoint.check(other_keys)
    with pytest.raises(CheckpointError, match="function other"):
        checkpoint.check(ReplayIdentity(STREAM, IDENTITY.window, "other", IDENTITY.selection))


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.integers(0, 10**25).map(str), max_size=5))
def test_json_round_trip(positions: dict[str, str]) -> None:
    checkpoint = Checkpoint(IDENTITY, positions)
    assert Checkpoint.from_json(json.loads(json.dumps(checkpoint.as_json()))) == checkpoint


@given(
    st.lists(st.integers(1, 10**22), min_size=1, max_size=40, unique=True).map(sorted),
    st.data(),
)
def test_resuming_sends_each_unacknowledged_record_once(seqs: list[int], data: st.DataObject) -> None:
    """Kill after any acknowledged prefix: the resumed run sends exactly the rest."""
    records = [rec(str(s)) for s in seqs]
    acked = data.draw(st.integers(0, len(records)))
    checkpoint = Checkpoint(IDENTITY)
    for r in records[:acked]:
        checkpoint = checkpoint.advance("s1", r["dynamodb"]["SequenceNumber"])
    assert checkpoint.pending("s1", records) == records[acked:]


# -- the file ------------------------------------------------------------------------------------
class Killed(BaseException):
    """Stands for SIGKILL arriving between the temp file's write and its rename."""


def test_file_round_trip_and_resume(tmp_path: Path) -> None:
    store = CheckpointFile(tmp_path / "replay.json")
    assert store.load() is None
    fresh = store.resume(IDENTITY)
    assert fresh == Checkpoint(IDENTITY)
    saved = fresh.advance("s1", "123").advance("s2", "456")
    store.save(saved)
    assert store.load() == saved
    assert store.resume(IDENTITY) == saved
    assert [p.name for p in tmp_path.iterdir()] == ["replay.json"]  # no temp file left behind
    store.remove()
    assert store.load() is None


def test_a_kill_between_write_and_rename_leaves_the_old_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    CheckpointFile(path).save(Checkpoint(IDENTITY).advance("s1", "100"))
    before = path.read_bytes()

    def killed(src: str, dst: str) -> None:
        assert Path(src).read_bytes() != before  # the new one was fully written, not yet renamed
        raise Killed

    with pytest.raises(Killed):
        CheckpointFile(path, replace=killed).save(Checkpoint(IDENTITY).advance("s1", "200"))
    assert path.read_bytes() == before
    assert CheckpointFile(path).load() == Checkpoint(IDENTITY).advance("s1", "100")


def test_a_stray_temp_file_from_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    CheckpointFile(path).save(Checkpoint(IDENTITY).advance("s1", "100"))
    (tmp_path / ".replay.json.abc.tmp").write_text('{"version": 1, "posi')  # SIGKILL mid-write
    store = CheckpointFile(path)
    assert store.load() == Checkpoint(IDENTITY).advance("s1", "100")
    store.save(Checkpoint(IDENTITY).advance("s1", "300"))
    assert store.load() == Checkpoint(IDENTITY).advance("s1", "300")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b"[]", b'{"version": 2}', b'{"version": 1, "positions": {"s": "x"}}'],
)
def test_an_unusable_file_is_a_usage_error(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "replay.json"
    path.write_bytes(body)
    with pytest.raises(UsageError, match=r"not a usable replay checkpoint .* remove it to start"):
        CheckpointFile(path).load()


def test_resuming_another_replays_checkpoint_is_a_usage_error(tmp_path: Path) -> None:
    store = CheckpointFile(tmp_path / "replay.json")
    store.save(Checkpoint(IDENTITY).advance("s1", "100"))
    other = ReplayIdentity(STREAM, TimeWindow(0.0, 10.0), "orders-audit", IDENTITY.selection)
    with pytest.raises(UsageError, match="belongs to another replay"):
        store.resume(other)


def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    store = CheckpointFile(tmp_path / "missing" / "replay.json")
    with pytest.raises(DdbtError, match="cannot write the checkpoint"):
        store.save(Checkpoint(IDENTITY))

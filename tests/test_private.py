"""console/private.py: the one private-file writer (0600 from creation; whole files atomically)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from console.private import open_private_file, write_private_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_whole_file_is_written_private_and_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text("old")
    target.chmod(0o644)
    write_private_file(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_a_failed_write_leaves_the_target_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "cache.bin"
    target.mkdir()  # os.replace cannot put a file over a directory
    with pytest.raises(OSError):
        write_private_file(target, b"tokens")
    assert [p.name for p in tmp_path.iterdir()] == ["cache.bin"]


def test_a_stream_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    with open_private_file(path, newline="") as handle:
        handle.write("a,b\r\n")
    assert path.read_bytes() == b"a,b\r\n"
    assert mode(path) == 0o600


def test_an_existing_readable_file_is_made_private_before_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("someone else's old report")
    path.chmod(0o644)
    with open_private_file(path) as handle:
        assert mode(path) == 0o600
        handle.write("new")
    assert path.read_text() == "new"


def test_appending_keeps_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "debug.log"
    path.write_text("one\n")
    with open_private_file(path, append=True) as handle:
        handle.write("two\n")
    assert path.read_text() == "one\ntwo\n"
    assert mode(path) == 0o600


def test_a_device_is_written_and_left_as_it_is() -> None:
    before = os.stat(os.devnull).st_mode
    with open_private_file(os.devnull) as handle:
        handle.write("nothing")
    assert os.stat(os.devnull).st_mode == before

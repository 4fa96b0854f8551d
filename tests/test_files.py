"""Whole-file writes shared by exports, scenarios and benchmark results."""

import os

import pytest

from gpuviz.model.files import write_atomic, write_text_atomic


def test_a_written_file_gets_the_permissions_of_a_new_file_not_mkstemps_private_ones(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "picture.png", b"png bytes")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"png bytes"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old")

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]

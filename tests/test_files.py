"""Files written whole or not at all (``lbfast.dump``, ``lbfast convert -o``): symlinks
are written through, devices and FIFOs are written directly and never replaced, and
errors name the file the user gave."""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import threading
from pathlib import Path

import pytest

import lbfast
from lbfast.cli import main

ITEM = {
    "name": "box",
    "dataRow": {"globalKey": "img-1"},
    "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
}


def convert_to(tmp_path: Path, target: Path) -> tuple[int, str, str]:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ITEM) + "\n")
    out, err = io.StringIO(), io.StringIO()
    code = main(["convert", str(source), "-o", str(target)], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A character device made in ``tmp_path`` (needs root): minor 3 is like
    /dev/null, 7 like /dev/full. The tests never write to the system's own devices:
    a regression would replace them."""
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("cannot make a device node here")
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".lbfast-"))


@pytest.mark.parametrize("write", ["dump", "convert"])
def test_a_symlink_is_written_through_and_stays_a_link(tmp_path, write):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "out.ndjson"
    real.write_text("old\n")
    link = tmp_path / "link.ndjson"
    link.symlink_to(real)
    if write == "dump":
        lbfast.dump([ITEM], link)
    else:
        assert convert_to(tmp_path, link)[0] == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["name"] == "box"
    assert leftovers(tmp_path) == leftovers(real.parent) == []


@pytest.mark.parametrize("write", ["dump", "convert"])
def test_a_device_is_written_directly_never_replaced(tmp_path, write):
    null = device(tmp_path, "null", 3)
    if write == "dump":
        assert lbfast.dump([ITEM], null) > 0
    else:
        code, _, stderr = convert_to(tmp_path, null)
        assert code == 0, stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    lbfast.dump([ITEM], fifo)
    reader.join(timeout=10)
    assert got, "the FIFO was replaced: nothing reached its reader"
    assert json.loads(got[0])["name"] == "box"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_full_device_names_the_file(tmp_path):
    full = device(tmp_path, "full", 7)
    with pytest.raises(OSError) as info:
        lbfast.dump([ITEM], full)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(full)
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_missing_directory_is_reported_with_the_path_given(tmp_path):
    target = tmp_path / "nope" / "out.ndjson"
    with pytest.raises(FileNotFoundError) as info:
        lbfast.dump([ITEM], target)
    assert info.value.filename == str(target)
    code, _, stderr = convert_to(tmp_path, target)
    assert code == 2 and str(target) in stderr and ".lbfast-" not in stderr


@pytest.mark.parametrize("length", [218, 240, 255])
def test_file_names_up_to_the_legal_length_work(tmp_path, length):
    name = "p" * (length - len(".ndjson")) + ".ndjson"
    lbfast.dump([ITEM], tmp_path / name)
    assert json.loads((tmp_path / name).read_text())["name"] == "box"
    (tmp_path / name).unlink()
    assert convert_to(tmp_path, tmp_path / name)[0] == 0
    assert json.loads((tmp_path / name).read_text())["name"] == "box"
    assert leftovers(tmp_path) == []


def test_an_error_at_the_flush_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.ndjson"
    target.write_text("old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        lbfast.dump([ITEM], target)
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(target))
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == []

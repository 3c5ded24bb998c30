"""Writing a file whole or not at all.

A regular file (or a name that does not exist yet) is written under a short hidden
temporary name in the same directory, flushed to disk and renamed into place, so that
no reader ever sees it half-written. A symlink is followed: its target is what gets
written, and the link stays. A file that is not a regular file (``/dev/null``, a
FIFO, a terminal) cannot be replaced by a rename without destroying it, so it is
written directly instead.

A process killed with SIGKILL (or a machine that loses power) while writing can leave
a temporary file, named ``.lbfast-<12 hex digits>.tmp``, beside the target; never a
partial file under the final name. Every working file of lbfast is named
``.lbfast-*``; :func:`remove_temporaries` removes such leftovers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Union

TEMPORARY_PREFIX = ".lbfast-"
TEMPORARY_SUFFIX = ".tmp"

PathLike = Union[str, "os.PathLike[str]"]


def final_path(target: PathLike) -> Path:
    """Where writing ``target`` puts the bytes: a symlink's target, else ``target``."""
    return Path(os.path.realpath(os.fspath(target)))


def is_special(path: Path) -> bool:
    """An existing file that a rename must not replace (a device, a FIFO, a socket)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def named(err: OSError, target: PathLike) -> OSError:
    """``err`` about ``target`` (not about a temporary file, and never without a name)."""
    if err.errno is None:
        return err
    return type(err)(err.errno, os.strerror(err.errno), os.fspath(target))


def temporary_beside(path: Path, claim: Callable[[Path], None]) -> tuple[Path, IO[bytes]]:
    """A new file under a short, unique, hidden name in ``path``'s directory.

    Short, so that a target of any legal name length (255 bytes) still has one.
    ``claim(name)`` is told each name *before* the file is created, so that whoever
    cleans up after an error or a Ctrl-C knows it even when the interrupt lands
    between the creation and the return."""
    for _ in range(100):
        tmp = path.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}{TEMPORARY_SUFFIX}")
        claim(tmp)
        try:
            # Mode 0o666 lets the umask decide the permissions, as a plain open() would.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            return tmp, os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def finish(f: IO[bytes]) -> None:
    """Flushes ``f`` to disk and closes it (a full disk shows here at the latest)."""
    try:
        f.flush()
        os.fsync(f.fileno())
    finally:
        f.close()


@contextmanager
def replacing(target: PathLike) -> Iterator[IO[bytes]]:
    """``with replacing(path) as f: f.write(...)``: ``path`` holds exactly what was
    written when the block ends, and is untouched when it raises."""
    shown = os.fspath(target)
    path = final_path(target)
    claimed: list[Path] = []
    try:
        try:
            if is_special(path):
                with open(path, "wb") as special:
                    yield special
                return
            tmp, f = temporary_beside(path, claimed.append)
            try:
                yield f
                finish(f)
            finally:
                f.close()
            os.replace(tmp, path)
        except OSError as err:
            raise named(err, shown) from None
    except BaseException:
        remove_claimed(claimed)
        raise


def remove_claimed(claimed: list[Path]) -> None:
    """Removes the temporary files named in ``claimed`` (some may not exist), keeping
    the error being handled: a cleanup that fails (a read-only disk) must not hide it."""
    for name in claimed:
        with contextlib.suppress(OSError):
            name.unlink(missing_ok=True)
    claimed.clear()


def write_atomically(target: PathLike, data: bytes) -> None:
    """Writes ``data`` to ``target``, whole or not at all (see the module docstring)."""
    with replacing(target) as f:
        f.write(data)


def move_into_place(tmp: Path, target: PathLike) -> None:
    """Puts the finished temporary file ``tmp`` at ``target``: renamed over a regular
    file (or a symlink's target), copied into a device or FIFO; ``tmp`` is gone after."""
    shown = os.fspath(target)
    path = final_path(target)
    try:
        if is_special(path):
            with open(tmp, "rb") as src, open(path, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except OSError as err:
        raise named(err, shown) from None


def remove_temporaries(directory: PathLike) -> list[Path]:
    """Removes what an interrupted writer left in ``directory`` (``.lbfast-*``);
    returns the removed paths. Only for a directory no other writer is using."""
    removed = []
    for path in Path(directory).glob(f"{TEMPORARY_PREFIX}*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed

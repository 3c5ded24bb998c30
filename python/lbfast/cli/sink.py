"""Where ``lbfast convert`` writes: shards in a folder (``--out-dir``, capped per
import job), or one file (``--output``: a single uncapped shard, moved into place).
Either way through ``lbfast.ShardWriter``: atomic shards, the per-data-row limit
checked, and nothing left behind when the conversion fails."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Any, Optional

from lbfast._core import Encoded
from lbfast.cli.errors import UsageError
from lbfast.errors import ValidationError
from lbfast.files import TEMPORARY_PREFIX, final_path, move_into_place, write_atomically
from lbfast.options import Options
from lbfast.writer import ShardWriter


class Output:
    """The shards of one conversion, written as the lines come, kept only by ``commit``."""

    def __init__(self, args: argparse.Namespace, options: Optional[Options] = None) -> None:
        """``options``: what the writer applies to tables it converts itself
        (``write_arrow``); lines checked already (``write``) are written as they are."""
        self.target: Optional[Path] = None
        caps: dict[str, Any] = {
            "max_rows": args.max_rows,
            "max_bytes": args.max_bytes,
            "max_masks": args.max_masks,
            "gzip": args.gzip,
            "prefix": args.prefix,
        }
        if args.output is not None:
            self.target = Path(args.output)
            if self.target.is_dir() or args.output.endswith(os.sep):
                raise UsageError(f"--output must be a file path, got the directory {args.output}")
            # The one shard is written beside what the path really names (a symlink's
            # target), under a short hidden name, then moved into place.
            directory = final_path(self.target).parent
            if not directory.is_dir():
                raise UsageError(f"--output {args.output}: no directory {self.target.parent}")
            big = sys.maxsize
            caps = {"max_rows": big, "max_bytes": big, "max_masks": big, "gzip": False}
            caps["prefix"] = f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}"
        else:
            directory = Path(args.out_dir)
        try:
            # The lines come checked (and amended) by the conversion's Validator.
            self.writer = ShardWriter(directory, **caps, **(options or {}))
        except ValueError as err:
            raise UsageError(str(err)) from err

    def write(self, encoded: Encoded) -> None:
        self.writer.write_encoded(encoded)

    def commit(self) -> dict[str, Any]:
        """Finishes the last shard; the manifest, with the bytes of each file on disk
        (compressed, with ``--gzip``)."""
        manifest = self.writer.close().as_dict()
        shards = manifest["shards"]
        if self.target is not None:
            if shards:
                move_into_place(Path(shards[0]["path"]), self.target)
            else:
                write_atomically(self.target, b"")
                shards.append({"path": "", "rows": 0, "bytes": 0, "masks": 0})
            shards[0]["path"] = str(self.target)
        for shard in shards:
            found = Path(shard["path"]).stat()
            # A device (-o /dev/null) has no size: what was sent to it.
            shard["written"] = found.st_size if stat.S_ISREG(found.st_mode) else shard["bytes"]
        manifest["written"] = sum(shard["written"] for shard in shards)
        return manifest

    def discard(self) -> None:
        """Removes every shard (the writer has discarded an unfinished one)."""
        with contextlib.suppress(ValidationError):
            self.writer.close()
        for path in self.writer.manifest.paths:
            Path(path).unlink(missing_ok=True)

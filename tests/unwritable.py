"""A folder the tests' subprocesses cannot write to, as a bind-mounted DATA_DIR owned by
another user is for the bot (root writes anywhere, so a root test runner drops that power)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

IMAGE_UID = 10001  # the Docker image's user (deploy/Dockerfile)


def unwritable_folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """(folder, command prefix): a subprocess started with the prefix cannot write in the
    folder. As root the folder belongs to IMAGE_UID and the process runs without
    CAP_DAC_OVERRIDE (setpriv); otherwise the folder is read-only to its owner."""
    folder = tmp_path / "mounted"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return folder, []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv (util-linux) to drop root's file-permission override")
    os.chown(folder, IMAGE_UID, IMAGE_UID)
    folder.chmod(0o755)
    return folder, [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]

"""A separate digest process for the multi-process tests (run as a script, not collected).

It opens the service on the given database, signals that it is ready, waits for the go file,
runs one digest pass at the given time and prints the outcomes as JSON. Its "channel" is a
file: posting appends one JSON line per digest, and finding a run's messages reads them back.
`--hang before-post|after-post` makes the poster stop forever at that point (to be killed).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from knowledge.models import Digest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings


class FileChannel:
    """A channel that is a JSON Lines file shared by every process."""

    def __init__(self, path: Path, hang: str | None, hanging_flag: Path | None) -> None:
        self.path = path
        self.hang = hang
        self.hanging_flag = hanging_flag

    async def _stop_here(self) -> None:
        assert self.hanging_flag is not None
        self.hanging_flag.touch()
        await asyncio.sleep(3600)

    async def post(self, channel_id: int, digest: Digest, run_id: int) -> list[int]:
        """Append the digest as one line; its line number is the message id."""
        if self.hang == "before-post":
            await self._stop_here()
        record = {"channel_id": channel_id, "run_id": run_id, "pid": os.getpid(),
                  "articles": [i.article_id for s in digest.sections for i in s.items]}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if self.hang == "after-post":
            await self._stop_here()
        return [len(self.path.read_text(encoding="utf-8").splitlines())]

    async def find(self, channel_id: int, run_id: int, since: dt.datetime
                   ) -> list[int] | None:
        """Line numbers of the run's digest in the file, if it was posted."""
        if not self.path.exists():
            return None
        lines = self.path.read_text(encoding="utf-8").splitlines()
        found = [n for n, line in enumerate(lines, 1)
                 if json.loads(line)["run_id"] == run_id and json.loads(line)["channel_id"]
                 == channel_id]
        return found or None


def main() -> int:
    """Parse arguments, wait for the go signal, run one digest pass."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--now", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--channel-file", required=True, type=Path)
    parser.add_argument("--ready", required=True, type=Path)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--hang", choices=["before-post", "after-post"])
    parser.add_argument("--hanging-flag", type=Path)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url,
                        embedding_model="hashing", _env_file=None)  # type: ignore[call-arg]
    service = KnowledgeService.open(settings)
    args.ready.touch()
    while args.go is not None and not args.go.exists():
        time.sleep(0.005)
    channel = FileChannel(args.channel_file, args.hang, args.hanging_flag)
    outcomes = asyncio.run(service.digests.run_due(channel.post, find_posted=channel.find,
                                                   now=args.now))
    print(json.dumps([{"run_id": o.run_id, "status": o.status} for o in outcomes]))
    service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

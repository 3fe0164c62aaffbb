"""Hostile inputs: wall time and peak memory of `python -m knowledge add URL` for each, next to a
normal article added in the same run, and the longest event-loop stall while each is added.

Usage:
  python bench/hostile.py             # the bundled model, default limits (.env.example)
  python bench/hostile.py --hashing   # the fast test embedder (isolates fetch and extraction)

The cases are tests/hostile/cases.py (compression bombs, quadratic and nested HTML, PDF bombs,
bogus charsets, NUL bytes, huge attributes, a feed with one poisoned entry), generated at start
and served by tests/fakes/web_server.py on 127.0.0.1.

Part 1, per case: a fresh data directory, then the real CLI in a subprocess. "peak MB" is the
largest sum of RSS over the CLI process and its children (extraction workers, fork server),
sampled every 20 ms; "+s" and "+MB" are the differences to the normal article.
Part 2: one library opened in this process (the CLI's settings); each case is added with
`sources.add` while a 10 ms ticker on the same event loop records the longest gap between ticks:
what a running bot would see while a feed author's input is processed. Targets (issue 10): no
case over +10 s or +150 MB, no stall over 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.fakes.web_server import FakeWeb  # noqa: E402
from tests.hostile.cases import HostileCase, cases  # noqa: E402


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS over ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_cli(url: str, env: dict[str, str], cwd: str) -> tuple[float, float, str]:
    """Wall seconds, peak tree RSS (MB) and the result line of one `python -m knowledge add`."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "knowledge", "add", url], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.02):
            peak = max(peak, _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=600)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    line = (out.strip().splitlines() or ["(no result line)"])[-1]
    if "Traceback" in err:
        line += "  [TRACEBACK on stderr]"
    return wall, peak / 1024, line


async def loop_stalls(web: FakeWeb, all_cases: list[HostileCase]) -> dict[str, float]:
    """Longest event-loop gap (s) while each case is added in this process."""
    from knowledge.cli.common import open_service

    service = open_service()
    stalls: dict[str, float] = {}
    try:
        for case in all_cases:
            worst = 0.0
            done = asyncio.Event()

            async def tick(done: asyncio.Event = done) -> None:
                nonlocal worst
                last = time.monotonic()
                while not done.is_set():
                    await asyncio.sleep(0.01)
                    now = time.monotonic()
                    worst = max(worst, now - last - 0.01)
                    last = now

            ticker = asyncio.create_task(tick())
            await service.sources.add(web.url(case.path), guild_id=None)
            done.set()
            await ticker
            stalls[case.name] = worst
    finally:
        service.close()
    return stalls


def main() -> None:
    """Serve every case, add each through the CLI, then measure loop stalls in-process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashing", action="store_true", help="use the fast test embedder")
    parser.add_argument("--only", metavar="TEXT",
                        help="only the cases whose name contains TEXT (and the normal article)")
    args = parser.parse_args()
    started = time.monotonic()
    all_cases = cases()
    if args.only:
        all_cases = [c for i, c in enumerate(all_cases) if i == 0 or args.only in c.name]
    print(f"generated {len(all_cases)} inputs in {time.monotonic() - started:.1f} s")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    base_env.update(FETCH_ALLOW_PRIVATE_ADDRESSES="true", PYTHONPATH=str(HERE.parent))
    if args.hashing:
        base_env["EMBEDDING_MODEL"] = "hashing:256"
    rows = []
    with FakeWeb() as web:
        for case in all_cases:
            case.serve(web, case.path)
        for case in all_cases:
            with tempfile.TemporaryDirectory() as data_dir:
                env = dict(base_env, DATA_DIR=data_dir)
                rows.append((case, *run_cli(web.url(case.path), env, data_dir)))
        normal_wall, normal_rss = rows[0][1], rows[0][2]
        print(f"\n{'case':34} {'wall s':>7} {'+s':>6} {'peak MB':>8} {'+MB':>6}  result")
        for case, wall, rss, line in rows:
            result = line.split(": ", 1)[-1]
            print(f"{case.name:34} {wall:7.1f} {wall - normal_wall:+6.1f} {rss:8.0f} "
                  f"{rss - normal_rss:+6.0f}  {result[:110]}")
        with tempfile.TemporaryDirectory() as data_dir:
            os.environ.update(base_env, DATA_DIR=data_dir)
            stalls = asyncio.run(loop_stalls(web, all_cases))
    print(f"\n{'case':34} {'longest event-loop stall (s)':>30}")
    for name, stall in stalls.items():
        print(f"{name:34} {stall:30.3f}")


if __name__ == "__main__":
    main()

"""End-to-end /ask latency through the fake Discord, on SQLite and on PostgreSQL.

Usage:
  python bench/ask_latency.py                                  # SQLite only
  python bench/ask_latency.py --postgres postgresql+psycopg://postgres@127.0.0.1:55432/summit_test
  (or set BENCH_POSTGRES_URL; a fresh database is created on that server and dropped after)
  python bench/ask_latency.py --old-tree /tmp/old                # old code and this tree's,
  (two bots, each on its own database and fake Discord, taking turns: same load for both)
  python bench/ask_latency.py --profile /tmp/ask                # also sample the bot process
  (py-spy, every thread, into /tmp/ask.bot.1user and /tmp/ask.bot.20users, or .old./.new. with
  --old-tree; collapsed stacks; PROFILE_GIL=1 keeps only samples of threads holding the GIL)

The real `python -m bot` (real bundled model, founding corpus from the prebuilt index) runs
against tests/fakes' Discord over real sockets. Latency is measured from the moment the fake
sends INTERACTION_CREATE over the gateway to the moment it records the request carrying the
final answer (the one-step response, or the edit of the deferred one when the search was
slow): gateway, discord.py, the service (query embedding, hybrid search), rendering and the
REST round trips. Questions are distinct strings
(bench/questions.jsonl, short_queries.txt and offtopic.txt under a few framings), so no cache
answers twice. 1 user asks one question at a time; 20 users ask at once, in rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from tests.bot.launch import bot_env, bot_process, fresh_postgres_database  # noqa: E402
from tests.fakes.discord_server import BotProcess, FakeDiscord, InteractionHandle  # noqa: E402
from tests.fakes.world import World  # noqa: E402

START_TIMEOUT = 300.0
ANSWER_TIMEOUT = 120.0
USERS = 20
WARM_UP = 10


def questions() -> Iterator[str]:
    """Distinct questions, on-topic and off-topic mixed, without end (numbered once reused)."""
    base = [json.loads(line)["question"] for line in (HERE / "questions.jsonl").read_text()
            .splitlines() if line]
    for name in ("short_queries.txt", "offtopic.txt"):
        base += [q for q in (HERE / name).read_text().splitlines() if q.strip()]
    framings = ["{}", "Tell me: {}", "In the commentary, {}", "Briefly, {}", "Experts on this: {}"]
    n = 0
    while True:
        for frame in framings:
            for q in base:
                yield frame.format(q) if n == 0 else f"{frame.format(q)} ({n})"
        n += 1


@dataclass
class Sample:
    """One /ask: end-to-end latency and time to the deferral, in milliseconds."""

    answer_ms: float
    ack_ms: float


def world() -> World:
    """The default world plus 20 askers."""
    w = World.default()
    for n in range(USERS):
        w.add_user(f"asker{n:02d}", guild=w.guild())
    return w


async def ask(fake: FakeDiscord, question: str, user: str) -> Sample:
    """Send one /ask and time it from INTERACTION_CREATE to the recorded final answer."""
    sent = time.monotonic()
    handle: InteractionHandle = await fake.slash("ask", {"question": question}, user=user)
    await handle.wait_done(timeout=ANSWER_TIMEOUT)
    if not handle.embeds and "No good match" not in handle.content:
        raise RuntimeError(f"unexpected answer: {handle.describe()}")
    answered = max(r.time for r in handle.requests)
    acked = min(r.time for r in handle.requests)
    return Sample((answered - sent) * 1000, (acked - sent) * 1000)


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system, every thread) used so far by process `pid`, or by this process
    (the bench and the fake Discord) when None."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU milliseconds the bot and the bench process (the fake Discord) spend on a phase."""

    def __init__(self, process: BotProcess) -> None:
        assert process._proc is not None
        self.pid = process._proc.pid
        self.bot, self.bench = cpu_seconds(self.pid), cpu_seconds(None)

    def per_ask(self, asks: int) -> tuple[float, float]:
        """(bot, bench) CPU ms per ask since the meter started."""
        return ((cpu_seconds(self.pid) - self.bot) * 1000 / asks,
                (cpu_seconds(None) - self.bench) * 1000 / asks)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def bot_side_ms(process: BotProcess, skip: int) -> list[float]:
    """latency_ms of the bot's own /ask log lines (after the first `skip`)."""
    found = [float(m.group(1)) for line in process.lines if "command=ask " in line
             for m in [re.search(r"latency_ms=([\d.]+)", line)] if m]
    return found[skip:]


def add_synthetic_passages(database_url: str, home: Path, passages: int) -> None:
    """Write synthetic passages into the bot's database before it starts (bench/speed.py)."""
    from speed import synthesize  # bench/speed.py, next to this file

    from knowledge.settings import Settings

    settings = Settings(data_dir=home / "data", database_url=database_url,
                        _env_file=None)  # type: ignore[call-arg]
    started = time.monotonic()
    synthesize(settings, passages)
    print(f"synthesised {passages} passages in {time.monotonic() - started:.0f} s",
          file=sys.stderr)


async def start_profiler(process: BotProcess, out: str) -> asyncio.subprocess.Process:
    """py-spy sampling the bot process (every thread, idle ones left out) into `out`."""
    assert process._proc is not None
    spy = Path(sys.executable).with_name("py-spy")
    return await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(process._proc.pid), "--format", "raw", "--threads",
        "--rate", "500", "--output", out, "--nonblocking",
        *(["--gil"] if os.environ.get("PROFILE_GIL") else []),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def stop_profiler(spy: asyncio.subprocess.Process) -> None:
    """Stop py-spy (SIGINT: it writes what it sampled and exits)."""
    import signal

    await asyncio.sleep(0.5)
    spy.send_signal(signal.SIGINT)
    _, err = await spy.communicate()
    if spy.returncode:
        print(f"py-spy: {err.decode(errors='replace')[-300:]}", file=sys.stderr)


@dataclass
class Contender:
    """One bot (one code tree) under test, its fake Discord and what was measured so far."""

    label: str
    fake: FakeDiscord
    process: BotProcess
    source: Iterator[str]
    seen: int = 0
    bot_cpu: float = 0.0
    bench_cpu: float = 0.0

    async def batch(self, asks: int, users: int) -> list[Sample]:
        """`asks` rounds of `users` questions at once (1: one at a time); CPU added up."""
        meter = CpuMeter(self.process)
        out: list[Sample] = []
        for _ in range(asks):
            out += await asyncio.gather(*[ask(self.fake, next(self.source), f"asker{n:02d}")
                                          for n in range(users)])
        bot, bench = meter.per_ask(1)
        self.bot_cpu += bot
        self.bench_cpu += bench
        return out

    def take_cpu(self, asks: int) -> tuple[float, float]:
        """CPU ms per ask since the last call."""
        out = (self.bot_cpu / asks, self.bench_cpu / asks)
        self.bot_cpu = self.bench_cpu = 0.0
        return out


async def measure(backend: str, database_url: str, sequential: int, rounds: int,
                  home: Path, passages: int = 0, profile: str = "",
                  trees: list[tuple[str, Path]] | None = None) -> list[dict[str, object]]:
    """Start one bot per code tree on its own copy of the database and time /ask with 1 and
    with 20 users, the trees taking turns (10 single asks or one round of 20 each) so that
    a change in the machine's load falls on all of them alike."""
    trees = trees or [("", HERE.parent)]
    rows: list[dict[str, object]] = []
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[Contender] = []
        for label, tree in trees:
            w = world()
            where = home / (label or "bot")
            url = database_url
            if url and len(trees) > 1:
                url = stack.enter_context(fresh_postgres_database(database_url))
            if passages:
                add_synthetic_passages(url, where, passages)
            fake = await stack.enter_async_context(FakeDiscord(w, heartbeat_interval=5.0))
            env = bot_env(fake, where, url, DISCORD_DEV_GUILD_ID=str(w.guild().id),
                          ASK_COOLDOWN_SECONDS="0", LOG_LEVEL="INFO")
            env["PYTHONPATH"] = str(tree)
            process = await stack.enter_async_context(bot_process(env, where))
            started = time.monotonic()
            await process.wait_for_output("ready as", timeout=START_TIMEOUT)
            await fake.wait_for_commands(w.guild(), timeout=START_TIMEOUT)
            print(f"[{backend} {label}] bot ready in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
            contender = Contender(label, fake, process, questions())
            for n in range(WARM_UP):
                await ask(fake, next(contender.source), f"asker{n:02d}")
            contender.seen = WARM_UP
            contenders.append(contender)
        name = {c.label: f"{backend} {c.label}".strip() for c in contenders}

        async def phase(users: int, turns: int, per_turn: int, tag: str) -> None:
            samples: dict[str, list[Sample]] = {c.label: [] for c in contenders}
            spies = [await start_profiler(c.process, f"{profile}.{c.label or 'bot'}.{tag}")
                     for c in contenders] if profile else []
            if spies:
                await asyncio.sleep(1.0)  # py-spy attaches
            for _ in range(turns):
                for c in contenders:
                    samples[c.label] += await c.batch(per_turn, users)
            for spy in spies:
                await stop_profiler(spy)
            for c in contenders:
                got = samples[c.label]
                # The bot logs each interaction just after answering it: wait for the last line.
                await c.process.wait_for_output("command=ask ", count=c.seen + len(got))
                rows.append(summary(name[c.label], library_passages(c.process), users, got,
                                    bot_side_ms(c.process, c.seen), c.take_cpu(len(got))))
                c.seen += len(got)

        await phase(1, max(1, sequential // 10), 10, "1user")
        await phase(USERS, rounds, 1, "20users")
        for c in contenders:
            c.process.assert_no_errors()
            c.fake.assert_no_errors()
    return rows


def library_passages(process: BotProcess) -> int:
    """Passages in the bot's index, from its start-up log line."""
    for line in process.lines:
        if m := re.search(r"index loaded: \d+ articles, (\d+) passages", line):
            return int(m.group(1))
    raise RuntimeError("the bot did not log its index size")


def summary(backend: str, passages: int, users: int, samples: list[Sample],
            inside: list[float], cpu: tuple[float, float]) -> dict[str, object]:
    """One table row."""
    answers = [s.answer_ms for s in samples]
    return {
        "backend": backend, "passages": passages, "users": users, "asks": len(samples),
        "median_ms": round(statistics.median(answers)),
        "p95_ms": round(percentile(answers, 0.95)),
        "max_ms": round(max(answers)),
        "ack_median_ms": round(statistics.median(s.ack_ms for s in samples)),
        "bot_side_median_ms": round(statistics.median(inside)) if inside else None,
        "bot_cpu_ms_per_ask": round(cpu[0], 1), "bench_cpu_ms_per_ask": round(cpu[1], 1),
    }


def print_table(rows: list[dict[str, object]]) -> None:
    """A Markdown table of the rows."""
    print("| database | passages | concurrent users | asks | median ms | p95 ms | max ms "
          "| ack median ms | bot-side median ms | bot CPU ms/ask | fake+bench CPU ms/ask |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['passages']} | {r['users']} | {r['asks']} | "
              f"{r['median_ms']} | "
              f"{r['p95_ms']} | {r['max_ms']} | {r['ack_median_ms']} | "
              f"{r['bot_side_median_ms']} | {r['bot_cpu_ms_per_ask']} | "
              f"{r['bench_cpu_ms_per_ask']} |")
    print(f"load average at the end: {os.getloadavg()}")


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    """Run the SQLite pass, then the PostgreSQL one if a server was given."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        backends = [("SQLite", "")]
        if args.postgres:
            backends.append(("PostgreSQL", stack.enter_context(
                fresh_postgres_database(args.postgres))))
        for backend, url in backends:
            home = Path(tmp) / backend.lower()
            trees = [("old", Path(args.old_tree)), ("new", HERE.parent)] \
                if args.old_tree else None
            rows += await measure(backend, url, args.sequential, args.rounds, home,
                                  args.passages, args.profile, trees)
    return rows


def main() -> None:
    """Parse arguments, run, print the table (and JSON lines with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""),
                        help="a PostgreSQL server URL (a fresh database is made on it)")
    parser.add_argument("--sequential", type=int, default=100, help="asks by one user")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 20 concurrent asks")
    parser.add_argument("--passages", type=int, default=0,
                        help="synthetic passages added to the library first (bench/speed.py)")
    parser.add_argument("--json", action="store_true", help="also print JSON lines")
    parser.add_argument("--old-tree", default="",
                        help="also run the bot from this checkout of older code (git archive "
                             "COMMIT | tar -x -C DIR), taking turns with this tree's")
    parser.add_argument("--profile", default="",
                        help="sample each bot with py-spy into PROFILE.<bot>.1user and "
                             "PROFILE.<bot>.20users (collapsed stacks; PROFILE_GIL=1: only "
                             "threads holding the GIL)")
    args = parser.parse_args()
    args.old_tree = str(Path(args.old_tree).resolve()) if args.old_tree else ""
    rows = asyncio.run(main_async(args))
    print_table(rows)
    if args.json:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()

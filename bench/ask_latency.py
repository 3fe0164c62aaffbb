"""End-to-end /ask latency through the fake Discord, on SQLite and on PostgreSQL.

Usage:
  python bench/ask_latency.py                                  # SQLite only
  python bench/ask_latency.py --postgres postgresql+psycopg://postgres@127.0.0.1:55432/summit_test
  (or set BENCH_POSTGRES_URL; a fresh database is created on that server and dropped after)
  python bench/ask_latency.py --profile /tmp/ask                # also sample the bot process
  (py-spy, every thread, into /tmp/ask.1user and /tmp/ask.20users; collapsed stacks)

The real `python -m bot` (real bundled model, founding corpus from the prebuilt index) runs
against tests/fakes' Discord over real sockets. Latency is measured from the moment the fake
sends INTERACTION_CREATE over the gateway to the moment it records the request carrying the
final answer (the edit of the deferred response): gateway, discord.py, the service (query
embedding, hybrid search), rendering and the REST round trips. Questions are distinct strings
(bench/questions.jsonl, short_queries.txt and offtopic.txt under a few framings), so no cache
answers twice. 1 user asks one question at a time; 20 users ask at once, in rounds.
"""

from __future__ import annotations

import argparse
import asyncio
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
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def stop_profiler(spy: asyncio.subprocess.Process) -> None:
    """Stop py-spy (SIGINT: it writes what it sampled and exits)."""
    import signal

    await asyncio.sleep(0.5)
    spy.send_signal(signal.SIGINT)
    _, err = await spy.communicate()
    if spy.returncode:
        print(f"py-spy: {err.decode(errors='replace')[-300:]}", file=sys.stderr)


async def measure(backend: str, database_url: str, sequential: int, rounds: int,
                  home: Path, passages: int = 0, profile: str = "") -> list[dict[str, object]]:
    """Start the bot on one database and time /ask with 1 and with 20 users."""
    w = world()
    rows: list[dict[str, object]] = []
    if passages:
        add_synthetic_passages(database_url, home, passages)
    async with FakeDiscord(w, heartbeat_interval=5.0) as fake:
        env = bot_env(fake, home, database_url, DISCORD_DEV_GUILD_ID=str(w.guild().id),
                      ASK_COOLDOWN_SECONDS="0", LOG_LEVEL="INFO")
        process = bot_process(env, home)
        async with process:
            started = time.monotonic()
            await process.wait_for_output("ready as", timeout=START_TIMEOUT)
            await fake.wait_for_commands(w.guild(), timeout=START_TIMEOUT)
            print(f"[{backend}] bot ready in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
            source = questions()
            for n in range(WARM_UP):
                await ask(fake, next(source), f"asker{n:02d}")
            seen = WARM_UP
            spy = await start_profiler(process, f"{profile}.1user") if profile else None
            if spy:
                await asyncio.sleep(1.0)  # py-spy attaches
            meter = CpuMeter(process)
            one = [await ask(fake, next(source), "asker00") for _ in range(sequential)]
            if spy:
                await stop_profiler(spy)
            # The bot logs each interaction just after answering it: wait for the last line.
            await process.wait_for_output("command=ask ", count=seen + sequential)
            rows.append(summary(backend, library_passages(process), 1, one,
                                bot_side_ms(process, seen), meter.per_ask(sequential)))
            seen += sequential
            many: list[Sample] = []
            spy = await start_profiler(process, f"{profile}.20users") if profile else None
            if spy:
                await asyncio.sleep(1.0)  # py-spy attaches
            meter = CpuMeter(process)
            for _ in range(rounds):
                many += await asyncio.gather(*[ask(fake, next(source), f"asker{n:02d}")
                                               for n in range(USERS)])
            if spy:
                await stop_profiler(spy)
            await process.wait_for_output("command=ask ", count=seen + len(many))
            rows.append(summary(backend, library_passages(process), USERS, many,
                                bot_side_ms(process, seen), meter.per_ask(len(many))))
            process.assert_no_errors()
        fake.assert_no_errors()
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
            rows += await measure(backend, url, args.sequential, args.rounds, home,
                                  args.passages, args.profile)
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
    parser.add_argument("--profile", default="",
                        help="sample the bot with py-spy into PROFILE.1user and "
                             "PROFILE.20users (collapsed stacks)")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args))
    print_table(rows)
    if args.json:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()

"""Load test of the assistant: real websocket sessions against real `streamlit run` servers on 127.0.0.1.

    python tools/load.py                          # the README table (1 then 2 processes, burst then paced), ~12 min
    python tools/load.py --sessions 1,20 --replicas 1 --store sqlite --rounds 5
    python tools/load.py --replicas 2 --store postgresql --feedback-writers 8

Each session speaks Streamlit's own protocol (the protobuf messages of the installed streamlit package): it
opens the websocket a browser opens, asks for the page, then, like an agent typing a request and pressing
Enter, sends a rerun with the search box's new value and waits for the server's "script finished". The time
from that Enter to that message is the time to the card. Queries are the evaluation sets' (a new one every time,
so no cache answers for the search). Two ways to press Enter (--pace, one level per value):

- 0, the burst: in each round every session presses Enter at the same instant, and the next round starts when
  all have their card. The worst case: twenty agents never press Enter in the same millisecond, round after round.
- P seconds: each session presses Enter, reads its card, waits a random pause of P seconds on average
  (exponential, seeded) and presses Enter again, --rounds times; the sessions start at random moments within the
  first P seconds. Twenty sessions at P = 5 send four searches a second to one server, more than twenty agents
  each serving a citizen do.

While the 20-session level runs, --feedback-writers processes write feedback into the same store. At the end
the servers are stopped (their pending rows are written at exit) and every row is counted: searches expected
(one per answered Enter) and feedback expected, against what the store holds.

Bounded: at most --max-sessions sessions, --rounds rounds per level, --timeout seconds per Enter, and
--deadline seconds overall; servers (and the temporary PostgreSQL) are always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import signal
import math
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.pgtemp import TempPostgres, free_port  # noqa: E402
from assistant.card import SEARCH_LABEL  # noqa: E402  (the search box is found by its label)

APP = ROOT / "assistant_app.py"
EVAL_SETS = sorted((ROOT / "tests" / "eval").glob("heldout*.jsonl"))
MAX_SESSIONS = 200


def queries(seed: int = 15) -> list[str]:
    """The evaluation queries, deduplicated, in a fixed shuffled order."""
    seen: dict[str, None] = {}
    for path in EVAL_SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(json.loads(line)["query"].strip(), None)
    found = [q for q in seen if q]
    random.Random(seed).shuffle(found)
    return found


# --- servers -----------------------------------------------------------------------------------------------

@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def start_server(env: dict[str, str], log: Path, timeout: float = 180.0) -> Server:
    """`streamlit run assistant_app.py` as `make run` starts it, on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    out = open(log, "wb")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    out.close()
    url = f"127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté :\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return Server(url, process, log)
        if time.monotonic() > deadline:
            stop_server(Server(url, process, log))
            raise TimeoutError(f"le serveur ne répond pas :\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def cpu_seconds(servers: list[Server]) -> float:
    """CPU time (user + system) the server processes have used so far: what a search costs, whatever the load."""
    total = 0.0
    for server in servers:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def stop_server(server: Server) -> None:
    """SIGTERM, as a service manager stops it: Streamlit shuts down and the process writes its pending rows."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


# --- one agent's session ------------------------------------------------------------------------------------

@dataclass
class Session:
    """One browser tab: a websocket to a server, speaking Streamlit's protobuf messages."""

    url: str
    timeout: float
    ws: object = None
    box_id: str = ""
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # headings, Markdown and HTML blocks of the last run
    received: int = 0  # forward messages (deltas, status, script events) of the last run

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(f"ws://{self.url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                open_timeout=self.timeout, ping_interval=None)
        await self.rerun(None)  # the page as a browser first loads it
        if not self.box_id:
            raise RuntimeError("pas de champ de recherche sur la page")

    async def rerun(self, query: str | None) -> str:
        """Send one rerun (the search box set to `query`) and wait for the end of the script; returns its status."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState
        from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

        widgets = [WidgetState(id=self.box_id, string_value=query)] if query is not None else []
        state = ClientState(query_string="", page_script_hash="", widget_states=WidgetStates(widgets=widgets))
        self.texts = []
        self.received = 0
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        return await asyncio.wait_for(self._until_finished(), self.timeout)

    async def _until_finished(self) -> str:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            msg = ForwardMsg.FromString(await self.ws.recv())
            self.received += 1
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "text_input" and element.text_input.label == SEARCH_LABEL:
                    self.box_id = element.text_input.id
                elif what == "exception":
                    self.exceptions.append(element.exception.message)
                elif what in ("heading", "markdown", "html"):
                    self.texts.append(getattr(element, what).body)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status != "FINISHED_EARLY_FOR_RERUN":
                    return status

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


async def timed(session: Session, query: str) -> float | None:
    """Seconds from Enter to the end of the script; None when it failed (error, exception, timeout).
    `session.received` then holds the number of messages the server sent for it."""
    before = len(session.exceptions)
    started = time.perf_counter()
    try:
        status = await session.rerun(query)
    except (asyncio.TimeoutError, OSError, Exception):
        return None
    elapsed = time.perf_counter() - started
    return elapsed if status == "FINISHED_SUCCESSFULLY" and len(session.exceptions) == before else None


# --- feedback writers (other processes) --------------------------------------------------------------------

def feedback_writer(target: str, worker: int, rows: int, start) -> None:
    from assistant.storage import Store

    start.wait()
    with Store(target) as store:
        for n in range(rows):
            store.record_feedback(f"charge {worker}-{n}", "caf-aide-logement", n % 3 != 0,
                                  None if n % 3 != 0 else "incomplete", f"écrit par le rédacteur {worker}")


# --- one configuration -------------------------------------------------------------------------------------

@dataclass
class Level:
    sessions: int
    times: list[float]
    errors: int
    pace: float = 0.0  # mean pause between a card and the next Enter, seconds; 0: every session at once
    cpu: float = 0.0  # server CPU seconds used by the level (every process), page loads included
    messages: list[int] = field(default_factory=list)  # forward messages per answered Enter

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile of the answered Enters' times."""
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")

    def median_messages(self) -> float:
        ordered = sorted(self.messages)
        return ordered[len(ordered) // 2] if ordered else float("nan")


async def run_level(servers: list[Server], n: int, rounds: int, pool: list[str], timeout: float,
                    pace: float = 0.0, seed: int = 15) -> Level:
    sessions = [Session(servers[i % len(servers)].url, timeout) for i in range(n)]
    try:
        for start in range(0, n, 10):  # open them ten by ten, as agents arrive, not all in one instant
            await asyncio.gather(*(s.open() for s in sessions[start:start + 10]))
        times, errors, messages = [], 0, []

        def record(session: Session, elapsed: float | None) -> None:
            nonlocal errors
            if elapsed is None:
                errors += 1
            else:
                times.append(elapsed)
                messages.append(session.received)

        if pace <= 0:  # the burst: every session presses Enter at the same instant, round after round
            for _ in range(rounds):
                batch = [pool.pop() for _ in sessions]
                results = await asyncio.gather(*(timed(s, q) for s, q in zip(sessions, batch)))
                for session, elapsed in zip(sessions, results):
                    record(session, elapsed)
        else:
            async def agent(session: Session, asked: list[str], rng: random.Random) -> None:
                await asyncio.sleep(rng.uniform(0, pace))
                for query in asked:
                    record(session, await timed(session, query))
                    await asyncio.sleep(rng.expovariate(1 / pace))

            await asyncio.gather(*(agent(s, [pool.pop() for _ in range(rounds)], random.Random(seed * 1000 + i))
                                   for i, s in enumerate(sessions)))
        return Level(n, times, errors, pace=pace, messages=messages)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


def run_configuration(args, replicas: int, store_kind: str, pg: TempPostgres | None, tmp: Path) -> dict:
    from assistant.storage import Store

    target = (pg.create_database(f"load_{replicas}_{int(time.time() * 1000)}") if store_kind == "postgresql"
              else str(tmp / f"assistant-{replicas}.sqlite"))
    env = {"INDEXER_INDEX": str(Path(args.index).resolve()), "INDEXER_KB": str(Path(args.kb).resolve()),
           "ASSISTANT_DB": target}
    Store(target).close()  # the schema exists before the replicas start (they would also agree among themselves)
    servers = []
    pool = queries()
    pool = pool * (1 + (len(args.pace) * sum(args.sessions) * args.rounds + 2 * replicas) // len(pool))
    levels, written_expected = [], 0
    context = multiprocessing.get_context("spawn")
    writers = []
    try:
        for r in range(replicas):
            servers.append(start_server(env, tmp / f"server-{replicas}-{r}.log"))

        async def warm() -> int:  # load the index and the model in every process before timing anything
            searches = 0
            for server in servers:
                session = Session(server.url, args.timeout * 4)
                await session.open()
                await session.rerun(pool.pop())
                searches += 1
                waited = time.monotonic()
                # The app answers by keywords while its model loads in the background: wait for it, so that no level
                # times the load (about 2 s of CPU) nor lexical answers.
                while any(LOADING in text for text in session.texts) and time.monotonic() - waited < args.timeout * 4:
                    await asyncio.sleep(0.5)
                    await session.rerun(pool.pop())  # a new query: one more search logged
                    searches += 1
                await session.close()
            # Then until the servers are idle: the app makes its model faster for queries in the background once it
            # answers (about 2 s of CPU), which no level should time.
            settled, last = time.monotonic(), cpu_seconds(servers)
            while time.monotonic() - settled < args.timeout:
                await asyncio.sleep(1.0)
                now = cpu_seconds(servers)
                if now - last < 0.05:
                    break
                last = now
            return searches

        written_expected += asyncio.run(warm())
        # Kept until the writers are joined: a spawned process rebuilds the event from its name when it starts, and
        # an event collected before then (a later level rebinding the name) is gone.
        start = context.Event()
        for pace, n in [(pace, n) for pace in args.pace for n in args.sessions]:
            if n == args.writers_at and args.feedback_writers and not writers:
                writers = [context.Process(target=feedback_writer, args=(target, w, args.feedback_rows, start))
                           for w in range(args.feedback_writers)]
                for writer in writers:
                    writer.start()
                start.set()
            cpu = cpu_seconds(servers)
            level = asyncio.run(run_level(servers, n, args.rounds, pool, args.timeout, pace))
            level.cpu = cpu_seconds(servers) - cpu
            written_expected += len(level.times)
            levels.append(level)
            print(f"  {replicas} processus, {store_kind}, {n} sessions, {pace_label(pace)} : "
                  f"p50 {level.quantile(0.5):.3f} s, "
                  f"p95 {level.quantile(0.95):.3f} s, {level.errors} erreur(s), "
                  f"CPU {1000 * level.cpu / max(1, len(level.times)):.0f} ms par recherche, "
                  f"{level.median_messages():.0f} messages par recherche",
                  file=sys.stderr, flush=True)
        for writer in writers:
            writer.join(args.deadline)
    finally:
        for server in servers:
            stop_server(server)
    with Store(target, retention=100_000) as store:
        counts = store.counts()
    feedback_expected = sum(w.exitcode == 0 for w in writers) * args.feedback_rows
    return {"replicas": replicas, "store": store_kind, "levels": levels,
            "searches": (written_expected, counts["searches"]), "feedback": (feedback_expected, counts["feedback"]),
            "writers": len(writers)}


def pace_label(pace: float) -> str:
    return "en rafale" if pace <= 0 else f"une pause de {pace:g} s en moyenne"


def report(results: list[dict]) -> str:
    lines = ["| processes | store | sessions | Enter | Enter → card p50 | p95 | max | answers | errors "
             "| server CPU per Enter | messages per Enter (median) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for level in r["levels"]:
            top = max(level.times) if level.times else float("nan")
            enter = "all at once" if level.pace <= 0 else f"every {level.pace:g} s on average"
            lines.append(f"| {r['replicas']} | {r['store']} | {level.sessions} | {enter} | "
                         f"{level.quantile(0.5):.3f} s | "
                         f"{level.quantile(0.95):.3f} s | {top:.3f} s | {len(level.times)} | {level.errors} | "
                         f"{1000 * level.cpu / max(1, len(level.times)):.0f} ms | {level.median_messages():.0f} |")
    lines += ["", "| processes | store | sessions | feedback writers | searches expected / stored / lost "
                  "| feedback expected / stored / lost |", "|---|---|---|---|---|---|"]
    for r in results:
        (se, sw), (fe, fw) = r["searches"], r["feedback"]
        lines.append(f"| {r['replicas']} | {r['store']} | {', '.join(str(lv.sessions) for lv in r['levels'])} | "
                     f"{r['writers']} | {se} / {sw} / {se - sw} | {fe} / {fw} / {fe - fw} |")
    return "\n".join(lines)


LOADING = "en cours de chargement"  # the app's note while its model loads (assistant/resources.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--kb", default=str(ROOT / "kb"))
    parser.add_argument("--sessions", default="1,5,20,50", help="concurrent sessions per level, e.g. 1,5,20,50")
    parser.add_argument("--rounds", type=int, default=6, help="Enter presses per session and level")
    parser.add_argument("--pace", default="0,5", help="mean seconds between a card and the next Enter, one level per "
                                                   "value (default 0,5; 0: every session presses Enter at once)")
    parser.add_argument("--replicas", default="1,2", help="app processes: 1, 2 or 1,2 (both, one after the other)")
    parser.add_argument("--store", default="auto", choices=["auto", "sqlite", "postgresql"],
                        help="auto: SQLite for one process, PostgreSQL for several")
    parser.add_argument("--feedback-writers", type=int, default=8)
    parser.add_argument("--feedback-rows", type=int, default=200)
    parser.add_argument("--writers-at", type=int, default=20, help="level at which the feedback writers run")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an Enter may take before it counts "
                                                                    "as an error")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds for the whole run")
    args = parser.parse_args(argv)
    args.sessions = [int(n) for n in args.sessions.split(",")]
    try:
        args.pace = [float(p) for p in args.pace.split(",")]
    except ValueError:
        parser.error("--pace : des secondes séparées par des virgules, par exemple 0,5")
    if not args.pace or min(args.pace) < 0 or max(args.pace) > 600:
        parser.error("--pace : de 0 à 600 secondes")
    if max(args.sessions) > MAX_SESSIONS or min(args.sessions) < 1 or not 1 <= args.rounds <= 100:
        parser.error(f"de 1 à {MAX_SESSIONS} sessions et de 1 à 100 tours")
    if not (Path(args.index) / "CURRENT").is_file():
        parser.error(f"aucun index dans {args.index} : python -m indexer rebuild --index {args.index}")
    replicas = [int(n) for n in args.replicas.split(",")]
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("--deadline dépassé")))
    signal.alarm(int(args.deadline))
    results = []
    with tempfile.TemporaryDirectory(prefix="assistant-load-") as tmp, contextlib.ExitStack() as stack:
        pg = None
        for n in replicas:
            kind = args.store if args.store != "auto" else ("sqlite" if n == 1 else "postgresql")
            if kind == "postgresql" and pg is None:
                pg = stack.enter_context(TempPostgres())
            results.append(run_configuration(args, n, kind, pg, Path(tmp)))
    signal.alarm(0)
    print(f"{os.cpu_count()} cœurs · {sum(len(lv.times) for r in results for lv in r['levels'])} recherches · "
          f"{args.rounds} tours par niveau")
    print(report(results))
    lost = sum(r["searches"][0] - r["searches"][1] + r["feedback"][0] - r["feedback"][1] for r in results)
    errors = sum(lv.errors for r in results for lv in r["levels"])
    return 1 if lost or errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""A faithful fake Discord (REST v10 + JSON gateway) on 127.0.0.1 for end-to-end bot tests.

Run the real, unmodified bot against it over real sockets::

    async with FakeDiscord(World.default(), heartbeat_interval=0.5) as fake:
        env = {"BOT_TOKEN": fake.token, ...: fake.api_base, ...: fake.gateway_url}
        # start `python -m bot` with those settings, then:
        await fake.wait_for_commands()                  # the bot synced its tree
        reply = await fake.slash("ask", {"question": "When is the next summit?"})
        await reply.wait_done()                         # type 4, or type 5 + followup/edit
        assert "summit" in reply.text and not reply.ephemeral
        click = await fake.component("more:1", message=reply)
        await click.wait_done()
        fake.assert_no_errors()                         # unknown routes, invalid bodies, late acks

Inside the bot process, two settings point discord.py here (the bot should expose them as
config, empty meaning Discord's own)::

    discord.http.Route.BASE = fake.api_base   # REST, interaction callbacks and followups
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

What it checks like Discord does: the bot token (REST 401, gateway close 4004), IDENTIFY shard
and privileged intents (4010/4014), the 3 s interaction acknowledgement deadline, double acks
(40060), callback types per interaction type, message/embed/component/autocomplete limits and
command-sync schemas (400 Invalid Form Body, 50035), unknown channels/messages/webhooks, and
unknown routes. Every such rejection is appended to `fake.errors`; the `fake_discord` fixture in
tests/fakes/plugin.py fails the test at teardown if any remain.

Faithful quirks worth knowing: after a type 5 deferral, the first followup *edits the original*
(keeping the deferral's ephemeral flag) instead of creating a message; the GUILD_CREATE member
list holds only the bot (members come from op 8 chunking or REST) unless
`guild_create_members=True`; slash() refuses commands the bot never synced and users lacking a
command's default_member_permissions (pass `strict=False` to bypass), as the Discord client would.
"""

# The waiting API deliberately takes timeout= arguments (asked for by the test writers).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import mimetypes
import re
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    UPDATE_MESSAGE,
    CommandNotAvailable,
    FakeFile,
    InteractionHandle,
    build_options,
    resolve_user_value,
)
from .records import (
    EPHEMERAL,
    LOADING,
    FakeError,
    Heartbeat,
    RecordedFile,
    RecordedRequest,
    StoredMessage,
)
from .validation import (
    Problems,
    form_errors,
    validate_choices,
    validate_commands,
    validate_message,
)
from .world import (
    ATTACH_FILES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeUser,
    World,
    now_iso,
    shard_for,
)

API_PREFIX = "/api/v10"
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
INTERACTION_TOKEN_ROUTE = re.compile(r"^/(?:interactions/\d+|webhooks/\d+)/([^/]+)")
MENTION_USER = re.compile(r"<@!?(\d+)>")
MENTION_ROLE = re.compile(r"<@&(\d+)>")
REC = web.RequestKey("rec", RecordedRequest)


class FakeDiscordError(Exception):
    """Raised by handlers to answer with a Discord-style JSON error."""

    def __init__(
        self, status: int, code: int, message: str, *, errors: dict[str, Any] | None = None,
        kind: str = "rejected",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message}
        if errors:
            self.body["errors"] = errors
        self.kind = kind


def invalid_form(problems: Problems) -> FakeDiscordError:
    """Discord's 400 Invalid Form Body (or 50006 for an empty message)."""
    if "_message" in problems:
        return FakeDiscordError(400, 50006, "Cannot send an empty message", kind="invalid body")
    return FakeDiscordError(
        400, 50035, "Invalid Form Body", errors=form_errors(problems), kind="invalid body"
    )


@dataclass
class Fault:
    """A scripted failure for requests whose "METHOD /path" contains `match`."""

    match: str
    status: int
    times: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GatewaySession:
    """A gateway session (survives reconnects; RESUME replays what the bot missed)."""

    session_id: str
    shard: tuple[int, int] | None
    intents: int
    identify: dict[str, Any]
    sequence: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    resumes: int = 0


@dataclass
class GatewayConnection:
    """One websocket connection from the bot."""

    id: int
    ws: web.WebSocketResponse
    query: dict[str, str]
    opened_at: float
    session: GatewaySession | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    closed_at: float | None = None
    close_code: int | None = None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard(self) -> tuple[int, int] | None:
        """(shard_id, shard_count) from IDENTIFY, None if unsharded or not identified."""
        return self.session.shard if self.session else None

    @property
    def open(self) -> bool:
        """Whether the socket is still open."""
        return self.closed_at is None and not self.ws.closed


def _json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # aiohttp's json_response appends "; charset=utf-8"; discord.py then treats the body as text.
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)


class FakeDiscord:
    """The fake Discord server: start(), point the bot at api_base/gateway_url, drive it."""

    def __init__(
        self,
        world: World | None = None,
        *,
        heartbeat_interval: float = 41.25,
        shard_count: int = 1,
        ack_deadline: float = 3.0,
        strict_commands: bool = True,
        privileged_intents: bool = True,
        guild_create_members: bool = False,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_LIMIT,
        rate_limit: int = 50,
    ) -> None:
        self.world = world or World.default()
        self.heartbeat_interval = heartbeat_interval
        self.shard_count = shard_count
        self.ack_deadline = ack_deadline
        self.strict_commands = strict_commands
        self.privileged_intents = privileged_intents
        self.guild_create_members = guild_create_members
        self.attachment_size_limit = attachment_size_limit
        self.rate_limit = rate_limit

        self.requests: list[RecordedRequest] = []
        self.errors: list[FakeError] = []
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[tuple[str, tuple[int, int] | None]] = []
        self.member_requests: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[str, InteractionHandle] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.faults: list[Fault] = []
        self._blobs: dict[int, tuple[str, bytes, str | None]] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        """Bind 127.0.0.1 on a free port and serve."""
        app = web.Application(middlewares=[self._middleware], client_max_size=100 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, shutdown_timeout=0.5).start()
        return self

    async def stop(self) -> None:
        """Close every gateway connection and stop serving."""
        for conn in self.connections:
            if conn.open:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for discord.http.Route.BASE."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for DiscordWebSocket.DEFAULT_GATEWAY (and READY's resume_gateway_url)."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        """The bot token the fake accepts."""
        return self.world.token

    @property
    def application_id(self) -> int:
        """The application id (same as the bot user id, as on Discord)."""
        return self.world.application_id

    # -- waiting ------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0,
        describe: Callable[[], str] | None = None,
    ) -> Any:
        """Wait until predicate() is truthy (re-checked on every request/gateway event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                detail = describe() if describe else f"requests so far: {self.requests!r}"
                raise TimeoutError(f"condition not met within {timeout}s\n{detail}")
            event = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest:
        """The first recorded request (past or future) matching predicate."""

        def find() -> RecordedRequest | None:
            return next((r for r in self.requests if r.status and predicate(r)), None)

        return await self.wait_until(find, timeout)

    async def wait_for_commands(
        self, guild: int | str | FakeGuild | None = None, *, global_: bool | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Wait for a command sync: global (default), or for the given guild."""
        if guild is not None and not global_:
            guild_id = self.world.guild(guild).id
            await self.wait_until(lambda: any(g == guild_id for g, _ in self.command_syncs), timeout)
            return self.guild_commands[guild_id]
        await self.wait_until(lambda: any(g is None for g, _ in self.command_syncs), timeout)
        return self.global_commands

    async def wait_identified(self, count: int = 1, timeout: float = 10.0) -> list[GatewaySession]:
        """Wait until `count` sessions have IDENTIFYed (READY and GUILD_CREATEs sent)."""
        await self.wait_until(lambda: len(self.sessions) >= count, timeout)
        return list(self.sessions.values())

    async def wait_resumed(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` RESUMEs in total have succeeded."""
        await self.wait_until(lambda: len(self.resumes) >= count, timeout)

    def assert_no_errors(self) -> None:
        """Fail if the bot hit unknown routes or sent anything Discord would reject."""
        if self.errors:
            lines = "\n".join(f"  {e}" for e in self.errors)
            raise AssertionError(f"fake Discord rejected {len(self.errors)} request(s):\n{lines}")

    # -- fault injection ----------------------------------------------------------------

    def inject_429(
        self, route: str, times: int = 1, retry_after: float = 0.2, *, global_: bool = False
    ) -> None:
        """Answer the next `times` requests whose "METHOD /path" contains route with a 429."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after,
                "global": global_, "code": 0}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": "global" if global_ else "user",
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        self.faults.append(Fault(route, 429, times, body, headers))

    def inject_500(self, route: str, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` matching requests with a 5xx (discord.py retries after 1 s, 3 s...)."""
        self.faults.append(Fault(route, status, times, {"message": f"{status}: Server Error", "code": 0}))

    def inject_error(
        self, route: str, status: int, code: int, message: str, times: int = 1
    ) -> None:
        """Answer matching requests with any Discord error, e.g. 403 / 50013 Missing Permissions."""
        self.faults.append(Fault(route, status, times, {"message": message, "code": code}))

    async def send_reconnect(self, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs on a new connection."""
        for conn in self._live_connections(shard_id):
            await self._send(conn, {"op": 7, "d": None, "s": None, "t": None})

    async def drop_connection(self, shard_id: int | None = None, code: int = 4000) -> None:
        """Close the bot's gateway socket(s) with `code` (4000: the bot resumes)."""
        for conn in self._live_connections(shard_id):
            await conn.ws.close(code=code, message=b"dropped by test")

    async def invalidate_session(self, shard_id: int | None = None, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (non-resumable: the bot re-IDENTIFYs after a 5 s sleep)."""
        for conn in self._live_connections(shard_id):
            if not resumable and conn.session is not None:
                self.sessions.pop(conn.session.session_id, None)
            await self._send(conn, {"op": 9, "d": resumable, "s": None, "t": None})

    # -- gateway inspection ---------------------------------------------------------------

    @property
    def heartbeats(self) -> list[Heartbeat]:
        """Every heartbeat received, on every connection, in arrival order."""
        return sorted((hb for c in self.connections for hb in c.heartbeats), key=lambda h: h.time)

    def heartbeat_gaps(self, connection: GatewayConnection | None = None) -> list[float]:
        """Seconds between consecutive heartbeats of one connection (default: the latest open one)."""
        conn = connection or self.current_connection()
        times = [hb.time for hb in conn.heartbeats]
        return [b - a for a, b in itertools.pairwise(times)]

    def late_heartbeats(self, tolerance: float = 0.5, connection: GatewayConnection | None = None) -> list[float]:
        """Gaps longer than interval * (1 + tolerance): the bot's event loop was blocked."""
        limit = self.heartbeat_interval * (1 + tolerance)
        return [gap for gap in self.heartbeat_gaps(connection) if gap > limit]

    def current_connection(self, shard_id: int | None = None) -> GatewayConnection:
        """The newest open, identified/resumed connection (for a shard, if given)."""
        for conn in reversed(self.connections):
            wanted = shard_id is None or (conn.shard is not None and conn.shard[0] == shard_id)
            if conn.open and conn.session is not None and wanted:
                return conn
        raise LookupError(f"no live gateway connection for shard {shard_id}")

    @property
    def identified_shards(self) -> list[tuple[int, int] | None]:
        """The `shard` field of every IDENTIFY, in order (None when unsharded)."""
        return [tuple(i["shard"]) if i.get("shard") else None for i in self.identifies]  # type: ignore[misc]

    def _live_connections(self, shard_id: int | None) -> list[GatewayConnection]:
        return [
            c for c in self.connections
            if c.open and (shard_id is None or (c.shard is not None and c.shard[0] == shard_id))
        ]

    # -- gateway ------------------------------------------------------------------------

    async def _send(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        async with conn.send_lock:
            if conn.open:
                await conn.ws.send_str(json.dumps(payload))

    async def _dispatch(self, session: GatewaySession, event: str, data: Any) -> None:
        session.sequence += 1
        payload = {"op": 0, "t": event, "s": session.sequence, "d": data}
        session.events.append(payload)
        if session.connection is not None and session.connection.open:
            await self._send(session.connection, payload)

    async def dispatch(self, event: str, data: Any, *, guild: int | str | FakeGuild | None = None) -> None:
        """Send any gateway event to the session owning `guild` (default: the first guild)."""
        target = self.world.guild(guild) if self.world.guilds else None
        await self._dispatch(self._session_for(target), event, data)

    def _session_for(self, guild: FakeGuild | None) -> GatewaySession:
        sessions = list(self.sessions.values())
        for session in reversed(sessions):
            if session.shard is None:
                return session
            shard_id, count = session.shard
            wanted = shard_for(guild.id, count) if guild is not None else 0
            if shard_id == wanted:
                return session
        raise LookupError(
            f"no gateway session handles guild {guild.name if guild else 'DMs'!r}; "
            f"identified shards: {self.identified_shards}"
        )

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(len(self.connections) + 1, ws, dict(request.query), time.monotonic())
        self.connections.append(conn)
        await self._send(conn, {
            "op": 10, "s": None, "t": None,
            "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000), "_trace": ["fake-gateway"]},
        })
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    conn.received.append(payload)
                    await self._on_gateway_payload(conn, payload)
                elif msg.type == WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Binary frames are not supported.")
                    break
                else:
                    break
        finally:
            conn.closed_at = time.monotonic()
            conn.close_code = ws.close_code
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            conn.heartbeats.append(Heartbeat(conn.id, conn.shard, time.monotonic(), data))
            await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif conn.session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            await self._request_members(conn, data)
        elif op == 3:
            self.presence_updates.append(data)
        elif op == 4:
            pass  # voice state update: no voice in this fake
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        self._notify()

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = tuple(data["shard"]) if data.get("shard") else None
        if shard is not None and not (0 <= shard[0] < shard[1]):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identifies.append(data)
        session = GatewaySession(secrets.token_hex(16), shard, intents, data)  # type: ignore[arg-type]
        session.connection = conn
        conn.session = session
        self.sessions[session.session_id] = session
        guilds = self.world.guilds_for_shard(shard)  # type: ignore[arg-type]
        ready = {
            "v": 10,
            "user": {**self.world.bot.payload(), "verified": True, "mfa_enabled": False,
                     "email": None, "locale": "en-US"},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-gateway"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._dispatch(session, "READY", ready)
        for guild in guilds:
            await self._dispatch(session, "GUILD_CREATE", guild.payload(
                bot_user_id=self.world.bot.id, all_members=self.guild_create_members))

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.token:
            await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn and old.open:
            await old.ws.close(code=4000, message=b"Session resumed elsewhere.")
        session.connection = conn
        conn.session = session
        seq = data.get("seq") or 0
        for event in [e for e in session.events if e["s"] > seq]:
            await self._send(conn, event)
        session.resumes += 1
        self.resumes.append((session.session_id, session.shard))
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        self.member_requests.append(data)
        guild = self.world.guild(int(data["guild_id"]))
        members = guild.members
        query = data.get("query")
        if data.get("user_ids"):
            wanted = {int(u) for u in (data["user_ids"] if isinstance(data["user_ids"], list)
                                       else [data["user_ids"]])}
            members = [m for m in members if m.user.id in wanted]
            not_found = sorted(wanted - {m.user.id for m in members})
        else:
            not_found = []
            if query:
                q = query.lower()
                members = [m for m in members if m.user.username.lower().startswith(q)
                           or (m.nick or "").lower().startswith(q)]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if not_found:
            chunk["not_found"] = [str(u) for u in not_found]
        if data.get("presences"):
            chunk["presences"] = []
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        assert conn.session is not None
        await self._dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- REST plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway" or request.path.startswith("/attachments/"):
            return await handler(request)
        rel = request.path[len(API_PREFIX):] if request.path.startswith(API_PREFIX + "/") else request.path
        rec = await self._read_request(request, rel)
        self.requests.append(rec)
        match = INTERACTION_TOKEN_ROUTE.match(rel)
        handle = self.interactions.get(match.group(1)) if match else None
        try:
            response = self._fault_response(rec)
            if response is None:
                if not request.path.startswith(API_PREFIX + "/") or request.match_info.http_exception:
                    raise FakeDiscordError(404, 0, "404: Not Found", kind="unknown route")
                if not self._authorized(request, rel):
                    raise FakeDiscordError(401, 0, "401: Unauthorized", kind="unauthorized")
                request[REC] = rec
                response = await handler(request)
        except FakeDiscordError as exc:
            error = FakeError(exc.kind, rec.method, rec.path, exc.status, exc.body)
            self.errors.append(error)
            if handle is not None:
                handle.errors.append(error)
            response = _json_response(exc.body, exc.status)
        rec.status = response.status
        if isinstance(response, web.Response) and response.body and response.content_type == "application/json":
            with contextlib.suppress(ValueError, TypeError):
                rec.response = json.loads(response.body)  # type: ignore[arg-type]
        self._add_rate_limit_headers(request, response)
        if handle is not None:
            handle.requests.append(rec)
        self._notify()
        return response

    async def _read_request(self, request: web.Request, rel: str) -> RecordedRequest:
        files: list[RecordedFile] = []
        body: Any = None
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = await part.read(decode=False)  # type: ignore[union-attr]
                    files.append(RecordedFile(
                        part.name or "", part.filename or "",  # type: ignore[union-attr]
                        part.headers.get("Content-Type"), bytes(data)))
        elif request.can_read_body:
            raw = await request.read()
            if raw and request.content_type == "application/json":
                body = json.loads(raw)
        return RecordedRequest(
            request.method, rel, dict(request.query), body, files, dict(request.headers), time.monotonic()
        )

    def _authorized(self, request: web.Request, rel: str) -> bool:
        if rel.startswith(("/interactions/", "/webhooks/")):
            return True  # authenticated by the token in the URL
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _fault_response(self, rec: RecordedRequest) -> web.Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.match in rec.route:
                fault.times -= 1
                rec.fault = str(fault.status)
                return _json_response(fault.body, fault.status, fault.headers)
        return None

    def _add_rate_limit_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if "X-RateLimit-Remaining" in response.headers:
            return
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        bucket = hashlib.sha1(f"{request.method} {canonical}".encode()).hexdigest()[:16]
        response.headers["X-RateLimit-Limit"] = str(self.rate_limit)
        response.headers["X-RateLimit-Remaining"] = str(self.rate_limit - 1)
        response.headers["X-RateLimit-Reset"] = f"{time.time() + 1:.3f}"
        response.headers["X-RateLimit-Reset-After"] = "1.000"
        response.headers["X-RateLimit-Bucket"] = bucket

    def _add_routes(self, app: web.Application) -> None:
        r = app.router
        a = API_PREFIX
        r.add_get("/gateway", self._gateway)
        r.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._download)
        r.add_get(f"{a}/gateway", self._get_gateway)
        r.add_get(f"{a}/gateway/bot", self._get_gateway_bot)
        r.add_get(f"{a}/users/@me", self._get_me)
        r.add_get(f"{a}/users/{{user_id:\\d+}}", self._get_user)
        r.add_post(f"{a}/users/@me/channels", self._create_dm)
        r.add_get(f"{a}/oauth2/applications/@me", self._get_application)
        r.add_get(f"{a}/applications/@me", self._get_application)
        cmds = f"{a}/applications/{{app_id}}/commands"
        gcmds = f"{a}/applications/{{app_id}}/guilds/{{guild_id}}/commands"
        for base in (cmds, gcmds):
            r.add_get(base, self._get_commands)
            r.add_put(base, self._put_commands)
            r.add_post(base, self._upsert_command)
            r.add_get(base + "/{command_id:\\d+}", self._get_command)
            r.add_patch(base + "/{command_id:\\d+}", self._edit_command)
            r.add_delete(base + "/{command_id:\\d+}", self._delete_command)
        r.add_get(gcmds + "/permissions", self._get_command_permissions)
        r.add_get(f"{a}/channels/{{channel_id}}", self._get_channel)
        r.add_get(f"{a}/channels/{{channel_id}}/messages", self._list_messages)
        r.add_post(f"{a}/channels/{{channel_id}}/messages", self._post_message)
        r.add_get(f"{a}/channels/{{channel_id}}/messages/{{message_id}}", self._get_message)
        r.add_patch(f"{a}/channels/{{channel_id}}/messages/{{message_id}}", self._edit_message)
        r.add_delete(f"{a}/channels/{{channel_id}}/messages/{{message_id}}", self._delete_message)
        r.add_post(f"{a}/channels/{{channel_id}}/typing", self._no_content)
        r.add_put(f"{a}/channels/{{channel_id}}/messages/{{message_id}}/reactions/{{emoji}}/@me",
                  self._no_content)
        r.add_delete(f"{a}/channels/{{channel_id}}/messages/{{message_id}}/reactions/{{emoji}}/@me",
                     self._no_content)
        r.add_get(f"{a}/guilds/{{guild_id}}", self._get_guild)
        r.add_get(f"{a}/guilds/{{guild_id}}/channels", self._get_guild_channels)
        r.add_get(f"{a}/guilds/{{guild_id}}/roles", self._get_guild_roles)
        r.add_get(f"{a}/guilds/{{guild_id}}/members", self._list_members)
        r.add_get(f"{a}/guilds/{{guild_id}}/members/{{user_id}}", self._get_member)
        r.add_post(f"{a}/interactions/{{interaction_id}}/{{token}}/callback", self._callback)
        hooks = f"{a}/webhooks/{{app_id}}/{{token}}"
        r.add_post(hooks, self._followup)
        r.add_get(hooks + "/messages/{message_id}", self._get_webhook_message)
        r.add_patch(hooks + "/messages/{message_id}", self._edit_webhook_message)
        r.add_delete(hooks + "/messages/{message_id}", self._delete_webhook_message)

    # -- REST: basics -------------------------------------------------------------------

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json_response({
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000,
                                    "max_concurrency": 1},
        })

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response({**self.world.bot.payload(), "verified": True, "mfa_enabled": False,
                               "email": None, "locale": "en-US"})

    async def _get_user(self, request: web.Request) -> web.Response:
        try:
            user = self.world.user(int(request.match_info["user_id"]))
        except KeyError:
            raise FakeDiscordError(404, 10013, "Unknown User") from None
        return _json_response(user.payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[REC].json or {}
        try:
            user = self.world.user(int(body["recipient_id"]))
        except (KeyError, ValueError):
            raise FakeDiscordError(400, 50035, "Invalid Form Body", kind="invalid body") from None
        return _json_response(self.world.dm_channel(user).payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json_response(self.world.application_payload())

    # -- REST: application commands -----------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self.application_id:
            raise FakeDiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        try:
            return self.world.guild(int(guild_id)).id
        except (KeyError, ValueError):
            raise FakeDiscordError(403, 50001, "Missing Access") from None

    def _command_list(self, guild_id: int | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def _stored_command(self, spec: dict[str, Any], guild_id: int | None,
                        existing: list[dict[str, Any]]) -> dict[str, Any]:
        kind = int(spec.get("type", 1))
        previous = next((c for c in existing if c["name"] == spec["name"] and c["type"] == kind), None)
        command: dict[str, Any] = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **spec,
            "type": kind,
            "id": previous["id"] if previous else str(self.world.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.world.ids.next()),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json_response(self._command_list(self._command_scope(request)))

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        body = request[REC].json
        if not isinstance(body, list):
            raise invalid_form({"_body": "Expected an array of commands"})
        problems = validate_commands(body)
        if problems:
            raise invalid_form(problems)
        existing = self._command_list(guild_id)
        stored = [self._stored_command(spec, guild_id, existing) for spec in body]
        existing[:] = stored
        self.command_syncs.append((guild_id, stored))
        return _json_response(stored)

    async def _upsert_command(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        spec = request[REC].json or {}
        problems = validate_commands([spec])
        if problems:
            raise invalid_form(problems)
        existing = self._command_list(guild_id)
        command = self._stored_command(spec, guild_id, existing)
        existing[:] = [c for c in existing if c["id"] != command["id"]] + [command]
        return _json_response(command, 201)

    def _find_command(self, request: web.Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        commands = self._command_list(self._command_scope(request))
        for command in commands:
            if command["id"] == request.match_info["command_id"]:
                return commands, command
        raise FakeDiscordError(404, 10063, "Unknown application command")

    async def _get_command(self, request: web.Request) -> web.Response:
        return _json_response(self._find_command(request)[1])

    async def _edit_command(self, request: web.Request) -> web.Response:
        _, command = self._find_command(request)
        command.update(request[REC].json or {})
        return _json_response(command)

    async def _delete_command(self, request: web.Request) -> web.Response:
        commands, command = self._find_command(request)
        commands.remove(command)
        return web.Response(status=204)

    async def _get_command_permissions(self, request: web.Request) -> web.Response:
        self._command_scope(request)
        return _json_response([])

    def find_command(
        self, name: str, guild: FakeGuild | None
    ) -> tuple[dict[str, Any], int | None] | None:
        """A synced chat-input command visible in guild: (schema, guild_id if guild-scoped)."""
        if guild is not None:
            for command in self.guild_commands.get(guild.id, []):
                if command["name"] == name and command["type"] == 1:
                    return command, guild.id
        for command in self.global_commands:
            if command["name"] == name and command["type"] == 1:
                return command, None
        return None

    # -- REST: channels, messages, guilds -----------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        try:
            channel = self.world.find_channel(int(request.match_info["channel_id"]))
        except ValueError:
            channel = None
        if channel is None:
            raise FakeDiscordError(404, 10003, "Unknown Channel")
        return channel

    def _guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.world.guild(channel.guild_id) if channel.guild_id else None

    def _channel_message(self, request: web.Request, channel: FakeChannel) -> StoredMessage:
        stored = self.messages.get(int(request.match_info["message_id"]))
        if stored is None or stored.deleted or stored.channel_id != channel.id or stored.ephemeral:
            raise FakeDiscordError(404, 10008, "Unknown Message")
        return stored

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json_response(self._channel(request).payload())

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = int(request.query.get("limit", 50))
        found = [m.payload for m in self.channel_messages(channel.id)]
        return _json_response(list(reversed(found))[:limit])

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        rec: RecordedRequest = request[REC]
        guild = self._guild_of(channel)
        if guild is not None:
            perms = guild.permissions_for(self.world.bot.id)
            needed = VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if rec.files else 0)
            if perms & needed != needed:
                raise FakeDiscordError(403, 50013, "Missing Permissions")
        body = rec.json or {}
        reference = body.get("message_reference")
        stored = self._create_message(
            channel, body, rec.files, author=self.world.bot, kind=19 if reference else 0
        )
        return _json_response(stored.payload)

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return _json_response(self._channel_message(request, channel).payload)

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = self._channel_message(request, channel)
        if stored.payload["author"]["id"] != str(self.world.bot.id):
            raise FakeDiscordError(403, 50005, "Cannot edit a message authored by another user")
        rec: RecordedRequest = request[REC]
        self._apply_edit(stored, rec.json or {}, rec.files)
        return _json_response(stored.payload)

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._channel_message(request, channel).deleted = True
        return web.Response(status=204)

    def _guild(self, request: web.Request) -> FakeGuild:
        try:
            return self.world.guild(int(request.match_info["guild_id"]))
        except (KeyError, ValueError):
            raise FakeDiscordError(404, 10004, "Unknown Guild") from None

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = guild.payload(bot_user_id=self.world.bot.id, all_members=False)
        for key in ("channels", "members", "threads", "voice_states", "presences", "joined_at",
                    "large", "member_count"):
            data.pop(key, None)
        return _json_response(data)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        return _json_response([c.payload() for c in self._guild(request).channels])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        return _json_response([r.payload() for r in self._guild(request).roles])

    async def _list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted((m for m in guild.members if m.user.id > after), key=lambda m: m.user.id)
        return _json_response([m.payload() for m in members[:limit]])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.member(int(request.match_info["user_id"]))
        if member is None:
            raise FakeDiscordError(404, 10007, "Unknown Member")
        return _json_response(member.payload())

    async def _download(self, request: web.Request) -> web.Response:
        blob = self._blobs.get(int(request.match_info["attachment_id"]))
        if blob is None or blob[0] != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(request.path)
        self._notify()
        return web.Response(body=blob[1], content_type=blob[2] or "application/octet-stream")

    # -- messages -----------------------------------------------------------------------

    def channel_messages(self, channel: int | str | FakeChannel) -> list[StoredMessage]:
        """Messages visible to everyone in a channel (no ephemerals, no deleted), oldest first."""
        if isinstance(channel, FakeChannel):
            channel_id = channel.id
        elif isinstance(channel, str):
            channel_id = self.world.guild().channel(channel).id
        else:
            channel_id = channel
        return [m for m in self.messages.values()
                if m.channel_id == channel_id and not m.deleted and not m.ephemeral and not m.loading]

    def host_attachment(
        self, file: FakeFile, channel_id: int, *, ephemeral: bool = False, description: str | None = None
    ) -> dict[str, Any]:
        """Serve bytes at /attachments/... and return Discord's attachment object for them."""
        attachment_id = self.world.ids.next()
        content_type = file.content_type or mimetypes.guess_type(file.filename)[0]
        self._blobs[attachment_id] = (file.filename, file.data, content_type)
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{file.filename}"
        data: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": file.filename,
            "size": len(file.data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "width": None,
            "height": None,
            "flags": 0,
        }
        if description or file.description:
            data["description"] = description or file.description
        if ephemeral:
            data["ephemeral"] = True
        return data

    def attachment_bytes(self, attachment: Mapping[str, Any]) -> bytes:
        """The bytes behind an attachment object the bot sent."""
        return self._blobs[int(attachment["id"])][1]

    def _attachments_from(
        self, body: dict[str, Any], files: list[RecordedFile], channel_id: int,
        existing: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        by_index = {}
        for index, file in enumerate(files):
            match = re.fullmatch(r"files\[(\d+)\]", file.field)
            by_index[int(match.group(1)) if match else index] = file
        result: list[dict[str, Any]] = []
        listed = body.get("attachments")
        if listed is None:
            result = list(existing)
            listed = [{"id": i} for i in by_index]
        kept = {str(a["id"]): a for a in existing}
        for entry in listed:
            key = entry.get("id")
            if str(key) in kept and int(key) not in by_index:
                result.append(kept[str(key)])
                continue
            file = by_index.get(int(key)) if key is not None and str(key).isdigit() else None
            if file is None:
                raise invalid_form({"attachments": f"Unknown attachment {key!r}"})
            result.append(self.host_attachment(
                FakeFile(entry.get("filename") or file.filename, file.data), channel_id,
                description=entry.get("description")))
        return result

    def _mentions(self, content: str, allowed: dict[str, Any] | None, guild: FakeGuild | None
                  ) -> tuple[list[dict[str, Any]], list[str], bool]:
        parse = set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        users_ok = set(allowed.get("users", [])) if allowed is not None else set()
        roles_ok = set(allowed.get("roles", [])) if allowed is not None else set()
        mentions = []
        for user_id in dict.fromkeys(MENTION_USER.findall(content)):
            if "users" in parse or user_id in users_ok:
                with contextlib.suppress(KeyError):
                    mentions.append(self.world.user(int(user_id)).payload())
        roles = [r for r in dict.fromkeys(MENTION_ROLE.findall(content)) if "roles" in parse or r in roles_ok]
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        return mentions, roles, everyone

    def _create_message(
        self,
        channel: FakeChannel,
        body: dict[str, Any],
        files: list[RecordedFile],
        *,
        author: FakeUser,
        kind: int = 0,
        flags: int | None = None,
        interaction: InteractionHandle | None = None,
        validate: bool = True,
    ) -> StoredMessage:
        if validate:
            problems = validate_message(body, file_count=len(files))
            if problems:
                raise invalid_form(problems)
        guild = self._guild_of(channel)
        allowed = body.get("allowed_mentions")
        content = body.get("content") or ""
        mentions, roles, everyone = self._mentions(content, allowed, guild)
        message_id = self.world.ids.next()
        payload: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": roles,
            "mention_channels": [],
            "attachments": self._attachments_from(body, files, channel.id, []),
            "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
            "reactions": [],
            "pinned": False,
            "type": kind,
            "flags": int(body.get("flags") or 0) if flags is None else flags,
            "components": body.get("components") or [],
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.member(author.id)
            if member is not None and interaction is None:
                payload["member"] = member.payload(with_user=False)
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        if body.get("message_reference"):
            payload["message_reference"] = {"type": 0, "channel_id": str(channel.id),
                                            **body["message_reference"]}
        if body.get("poll"):
            payload["poll"] = body["poll"]
        if interaction is not None:
            payload["webhook_id"] = str(self.application_id)
            payload["application_id"] = str(self.application_id)
            name = (interaction.payload.get("data") or {}).get("name", "")
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
                **({"name": name, "command_type": 1} if interaction.type == APPLICATION_COMMAND else {}),
            }
            if interaction.type == APPLICATION_COMMAND:
                payload["interaction"] = {"id": str(interaction.id), "type": interaction.type,
                                          "name": name, "user": interaction.user.payload()}
        stored = StoredMessage(payload, allowed, list(files),
                               interaction_token=interaction.token if interaction else None)
        self.messages[message_id] = stored
        return stored

    def _apply_edit(self, stored: StoredMessage, body: dict[str, Any], files: list[RecordedFile]) -> None:
        problems = validate_message({**stored.payload, **body}, file_count=len(files), is_edit=True)
        if problems:
            raise invalid_form(problems)
        payload = stored.payload
        stored.history.append(json.loads(json.dumps(payload)))
        if "content" in body:
            payload["content"] = body["content"] or ""
        if "embeds" in body:
            payload["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            payload["components"] = body["components"] or []
        if "attachments" in body or files:
            payload["attachments"] = self._attachments_from(
                body, files, stored.channel_id, payload.get("attachments") or [])
            stored.files.extend(files)
        if "flags" in body and body["flags"] is not None:
            # Only SUPPRESS_EMBEDS (4) can change on edit; ephemeral/loading are fixed.
            payload["flags"] = (payload["flags"] & ~4) | (int(body["flags"]) & 4)
        payload["flags"] = payload["flags"] & ~LOADING
        if "allowed_mentions" in body:
            stored.allowed_mentions = body["allowed_mentions"]
        guild = self.world.guild(stored.guild_id) if stored.guild_id else None
        mentions, roles, everyone = self._mentions(payload["content"], stored.allowed_mentions, guild)
        payload.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        payload["edited_timestamp"] = now_iso()

    # -- REST: interactions -------------------------------------------------------------

    def _handle(self, token: str, *, interaction_id: str | None = None, app_id: str | None = None
                ) -> InteractionHandle:
        handle = self.interactions.get(token)
        if handle is None or (interaction_id is not None and str(handle.id) != interaction_id):
            raise FakeDiscordError(404, 10062, "Unknown interaction")
        if app_id is not None and int(app_id) != self.application_id:
            raise FakeDiscordError(404, 10015, "Unknown Webhook")
        return handle

    def _interaction_channel(self, handle: InteractionHandle) -> FakeChannel:
        channel = self.world.find_channel(handle.channel_id)
        assert channel is not None
        return channel

    async def _callback(self, request: web.Request) -> web.Response:
        rec: RecordedRequest = request[REC]
        handle = self._handle(request.match_info["token"],
                              interaction_id=request.match_info["interaction_id"])
        if handle.acknowledged:
            raise FakeDiscordError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - handle.created_at > self.ack_deadline:
            raise FakeDiscordError(404, 10062, "Unknown interaction", kind="acknowledged too late")
        body = rec.json or {}
        kind = body.get("type")
        data = body.get("data") or {}
        if kind not in ALLOWED_CALLBACKS.get(handle.type, set()):
            raise FakeDiscordError(400, 50035, f"Invalid callback type {kind} for interaction type "
                                               f"{handle.type}", kind="invalid body")
        channel = self._interaction_channel(handle)
        interaction_info: dict[str, Any] = {"id": str(handle.id), "type": handle.type}
        resource: dict[str, Any] = {"type": kind}
        if kind == CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) & (EPHEMERAL | 4 | 4096 | (1 << 15))
            handle.original = self._create_message(
                channel, data, rec.files, author=self.world.bot, flags=flags, interaction=handle,
                kind=20 if handle.type == APPLICATION_COMMAND else 19)
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            handle.original = self._create_message(
                channel, {"content": ""}, [], author=self.world.bot, flags=flags, interaction=handle,
                kind=20 if handle.type == APPLICATION_COMMAND else 19, validate=False)
            interaction_info["response_message_loading"] = True
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if handle.source_message is None:
                raise FakeDiscordError(400, 50035, "No message to update", kind="invalid body")
            handle.original = handle.source_message
            if kind == UPDATE_MESSAGE:
                self._apply_edit(handle.original, data, rec.files)
        elif kind == AUTOCOMPLETE_RESULT:
            problems = validate_choices(data.get("choices"))
            if problems:
                raise invalid_form(problems)
        elif kind == MODAL and not all(data.get(k) for k in ("custom_id", "title", "components")):
            raise invalid_form({"data": "Modals need custom_id, title and components"})
        handle.callback_type = kind
        handle.callback_data = data
        if handle.original is not None:
            interaction_info["response_message_id"] = str(handle.original.id)
            interaction_info["response_message_ephemeral"] = handle.original.ephemeral
            resource["message"] = handle.original.payload
        return _json_response({"interaction": interaction_info, "resource": resource})

    def _webhook_message(self, handle: InteractionHandle, message_id: str) -> StoredMessage:
        if message_id == "@original":
            if handle.original is None or handle.original.deleted:
                raise FakeDiscordError(404, 10008, "Unknown Message")
            return handle.original
        for stored in handle.messages:
            if str(stored.id) == message_id and not stored.deleted:
                return stored
        raise FakeDiscordError(404, 10008, "Unknown Message")

    async def _followup(self, request: web.Request) -> web.Response:
        rec: RecordedRequest = request[REC]
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        if not handle.acknowledged:
            raise FakeDiscordError(404, 10015, "Unknown Webhook")
        body = rec.json or {}
        original = handle.original
        if handle.callback_type == DEFERRED_CHANNEL_MESSAGE and original is not None and original.loading:
            # Discord: the first followup after a deferral edits the "thinking" message.
            problems = validate_message(body, file_count=len(rec.files))
            if problems:
                raise invalid_form(problems)
            self._apply_edit(original, body, rec.files)
            stored = original
        else:
            flags = int(body.get("flags") or 0) & (EPHEMERAL | 4 | 4096 | (1 << 15))
            stored = self._create_message(
                self._interaction_channel(handle), body, rec.files, author=self.world.bot,
                flags=flags, interaction=handle,
                kind=20 if handle.type == APPLICATION_COMMAND else 19)
            handle.followups.append(stored)
        if rec.query.get("wait") in ("1", "true", "True"):
            return _json_response(stored.payload)
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        return _json_response(self._webhook_message(handle, request.match_info["message_id"]).payload)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        rec: RecordedRequest = request[REC]
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        stored = self._webhook_message(handle, request.match_info["message_id"])
        self._apply_edit(stored, rec.json or {}, rec.files)
        handle.updates_after_ack += 1
        return _json_response(stored.payload)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        stored = self._webhook_message(handle, request.match_info["message_id"])
        stored.deleted = True
        handle.updates_after_ack += 1
        return web.Response(status=204)

    # -- driving the bot ----------------------------------------------------------------

    def default_user(self, guild: FakeGuild | None = None) -> FakeUser:
        """The least privileged human member (in the default world: bob)."""
        guild = guild or self.world.guild()
        humans = [m for m in guild.members if not m.user.bot and m.user.id != guild.owner_id]
        plain = [m for m in humans if not m.roles]
        chosen = (plain or humans or [FakeMember(self.world.owner)])[0]
        return chosen.user

    def interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild: FakeGuild | None,
        channel: FakeChannel,
        locale: str,
        permissions: int | None,
        message: StoredMessage | None = None,
    ) -> dict[str, Any]:
        """A complete INTERACTION_CREATE `d` payload of interaction type `kind`."""
        payload: dict[str, Any] = {
            "id": str(self.world.ids.next()),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": "itok_" + secrets.token_urlsafe(32),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
            "channel": channel.payload(),
            "channel_id": str(channel.id),
        }
        if guild is not None:
            member = guild.member(user.id)
            if member is None:
                raise CommandNotAvailable(f"{user.username} is not a member of {guild.name}")
            perms = guild.permissions_for(user.id) if permissions is None else permissions
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member.payload(permissions=perms),
                app_permissions=str(guild.permissions_for(self.world.bot.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions=str(VIEW_CHANNEL | SEND_MESSAGES | ATTACH_FILES),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.payload
        return payload

    def register_interaction(
        self, payload: dict[str, Any], *, user: FakeUser, guild: FakeGuild | None,
        source_message: StoredMessage | None = None,
    ) -> InteractionHandle:
        """Track an INTERACTION_CREATE payload's token without sending it (raw-HTTP tests)."""
        handle = InteractionHandle(self, payload, user=user, guild=guild, source_message=source_message)
        self.interactions[handle.token] = handle
        return handle

    async def _deliver(self, payload: dict[str, Any], *, user: FakeUser, guild: FakeGuild | None,
                       source_message: StoredMessage | None = None) -> InteractionHandle:
        session = self._session_for(guild)
        handle = self.register_interaction(payload, user=user, guild=guild, source_message=source_message)
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        handle.created_at = time.monotonic()
        return handle

    def _where(self, guild: int | str | FakeGuild | None, channel: int | str | FakeChannel | None,
               user: Any, dm: bool) -> tuple[FakeGuild | None, FakeChannel, FakeUser]:
        if dm:
            account = self.world.user(user) if user is not None else self.default_user()
            return None, self.world.dm_channel(account), account
        where = self.world.guild(guild)
        account = self.world.user(user) if user is not None else self.default_user(where)
        if isinstance(channel, FakeChannel):
            place = channel
        elif channel is None:
            place = where.text_channels[0]
        else:
            place = where.channel(channel)
        return where, place, account

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        strict: bool,
        focused: str | None,
    ) -> dict[str, Any]:
        path = name.split()
        found = self.find_command(path[0], guild)
        if found is None and strict:
            known = sorted({c["name"] for c in self.global_commands}
                           | {c["name"] for c in self.guild_commands.get(guild.id if guild else 0, [])})
            raise CommandNotAvailable(f"/{path[0]} was never synced; synced commands: {known}")
        schema, command_guild = found if found else (None, None)
        if schema is not None and strict:
            self._check_command_access(schema, guild, user)
        resolved: dict[str, Any] = {}
        specs = schema.get("options") if schema is not None else None
        values = dict(options or {})
        leaf_holder: dict[str, Any] = {}
        data: dict[str, Any] = {
            "id": schema["id"] if schema else str(self.world.ids.next()),
            "name": path[0],
            "type": 1,
        }
        container = data
        for part in path[1:]:
            spec = next((s for s in specs or [] if s["name"] == part), None) if schema else None
            if schema is not None and (spec is None or spec["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP)):
                raise CommandNotAvailable(f"/{name}: {part!r} is not a subcommand")
            kind = spec["type"] if spec else (SUB_COMMAND if part == path[-1] else SUB_COMMAND_GROUP)
            leaf_holder = {"name": part, "type": kind, "options": []}
            container.setdefault("options", []).append(leaf_holder)
            container = leaf_holder
            specs = spec.get("options", []) if spec else None
        if specs and any(s["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for s in specs):
            raise CommandNotAvailable(f"/{name} needs a subcommand: {[s['name'] for s in specs]}")
        built = build_options(self, specs, values, guild=guild, channel_id=channel.id,
                              resolved=resolved, focused=focused)
        if built or container is data:
            container["options"] = built
        if resolved:
            data["resolved"] = resolved
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        return data

    def _check_command_access(self, schema: dict[str, Any], guild: FakeGuild | None, user: FakeUser) -> None:
        if guild is None:
            contexts = schema.get("contexts")
            if schema.get("guild_id") or schema.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                raise CommandNotAvailable(f"/{schema['name']} is not available in DMs")
            return
        required = schema.get("default_member_permissions")
        if required is not None:
            needed = int(required)
            if guild.permissions_for(user.id) & needed != needed:
                raise CommandNotAvailable(
                    f"{user.username} lacks default_member_permissions {needed} for /{schema['name']}")

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
        attachments: Mapping[str, FakeFile | tuple[str, bytes]] | None = None,
        dm: bool = False,
        locale: str = "en-US",
        permissions: int | None = None,
        strict: bool | None = None,
    ) -> InteractionHandle:
        """Invoke a chat-input command ("group sub" for subcommands) as a user would."""
        where, place, account = self._where(guild, channel, user, dm)
        values = dict(options or {})
        values.update(attachments or {})
        data = self._command_data(name, values, guild=where, channel=place, user=account,
                                  strict=self.strict_commands if strict is None else strict,
                                  focused=None)
        payload = self.interaction_payload(APPLICATION_COMMAND, data, user=account, guild=where, channel=place,
                                 locale=locale, permissions=permissions)
        return await self._deliver(payload, user=account, guild=where)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
        dm: bool = False,
        locale: str = "en-US",
        strict: bool | None = None,
    ) -> InteractionHandle:
        """Type `value` into option `focused` of a command; `handle.choices` has the answer."""
        where, place, account = self._where(guild, channel, user, dm)
        values = {**dict(options or {}), focused: value}
        data = self._command_data(name, values, guild=where, channel=place, user=account,
                                  strict=self.strict_commands if strict is None else strict,
                                  focused=focused)
        payload = self.interaction_payload(AUTOCOMPLETE, data, user=account, guild=where, channel=place,
                                 locale=locale, permissions=None)
        return await self._deliver(payload, user=account, guild=where)

    def _message_from(self, message: StoredMessage | InteractionHandle | int) -> StoredMessage:
        if isinstance(message, InteractionHandle):
            return message.message
        if isinstance(message, StoredMessage):
            return message
        return self.messages[int(message)]

    async def component(
        self,
        custom_id: str,
        *,
        message: StoredMessage | InteractionHandle | int,
        user: FakeUser | FakeMember | int | str | None = None,
        values: list[Any] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Click a button (or pick select `values`) on a message the bot sent."""
        source = self._message_from(message)
        if source.deleted:
            raise ValueError(f"message {source.id} was deleted")
        component = source.find_component(custom_id)
        if component is None:
            raise ValueError(f"no component {custom_id!r} on {source!r}; it has {source.custom_ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        channel = self.world.find_channel(source.channel_id)
        assert channel is not None
        guild = self._guild_of(channel)
        if user is None:
            owner_handle = self.interactions.get(source.interaction_token or "")
            account = owner_handle.user if owner_handle else self.default_user(guild)
        else:
            account = self.world.user(user)
        if source.ephemeral and source.interaction_token:
            owner_handle = self.interactions[source.interaction_token]
            if owner_handle.user.id != account.id:
                raise ValueError("only the invoking user can see (and click) an ephemeral message")
        kind = component["type"]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
        if "id" in component:
            data["id"] = component["id"]
        if kind != 2:
            resolved: dict[str, Any] = {}
            picked = list(values or [])
            if kind == 5:
                picked = [resolve_user_value(self, v, guild, resolved) for v in picked]
            data["values"] = [str(v) if kind != 3 else v for v in picked]
            if resolved:
                data["resolved"] = resolved
        payload = self.interaction_payload(MESSAGE_COMPONENT, data, user=account, guild=guild, channel=channel,
                                 locale=locale, permissions=None, message=source)
        return await self._deliver(payload, user=account, guild=guild, source_message=source)

    async def modal_submit(
        self,
        opened_by: InteractionHandle,
        values: Mapping[str, str | list[str]],
        *,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Submit the modal the bot opened in answer to `opened_by`, filling text inputs by custom_id."""
        modal = opened_by.modal
        remaining = dict(values)

        def fill(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for item in items:
                kind = item.get("type")
                if kind == 1:
                    out.append({"type": 1, "components": fill(item.get("components") or [])})
                elif kind == 18:
                    out.append({"type": 18, "component": fill([item["component"]])[0]})
                elif item.get("custom_id"):
                    value = remaining.pop(item["custom_id"], "" if kind == 4 else [])
                    key = "value" if kind == 4 else "values"
                    out.append({"type": kind, "custom_id": item["custom_id"], key: value})
                else:
                    out.append({"type": kind})
            return out

        components = fill(modal.get("components") or [])
        if remaining:
            raise ValueError(f"the modal has no inputs {sorted(remaining)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        channel = self.world.find_channel(opened_by.channel_id)
        assert channel is not None
        payload = self.interaction_payload(MODAL_SUBMIT, data, user=opened_by.user, guild=opened_by.guild,
                                 channel=channel, locale=locale, permissions=None,
                                 message=opened_by.source_message)
        return await self._deliver(payload, user=opened_by.user, guild=opened_by.guild,
                                   source_message=opened_by.source_message)

    async def user_message(
        self,
        content: str,
        *,
        user: FakeUser | FakeMember | int | str | None = None,
        guild: int | str | FakeGuild | None = None,
        channel: int | str | FakeChannel | None = None,
    ) -> StoredMessage:
        """A user posts a message (MESSAGE_CREATE), e.g. for prefix commands."""
        where, place, account = self._where(guild, channel, user, dm=False)
        stored = self._create_message(place, {"content": content}, [], author=account)
        data = dict(stored.payload)
        member = where.member(account.id) if where else None
        if member is not None:
            data["member"] = member.payload(with_user=False)
        await self._dispatch(self._session_for(where), "MESSAGE_CREATE", data)
        return stored

    def guild_payload(self, guild: int | str | FakeGuild | None = None) -> dict[str, Any]:
        """The GUILD_CREATE payload the fake sends for a guild."""
        return self.world.guild(guild).payload(bot_user_id=self.world.bot.id,
                                               all_members=self.guild_create_members)


"""The fake Discord's gateway: HELLO, IDENTIFY/READY, heartbeats, RESUME, chunks, dispatch."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .records import Heartbeat
from .state import FakeState
from .world import FakeChannel, FakeGuild, shard_for

MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | MESSAGE_CONTENT_INTENT  # members, presences, content

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



class GatewayMixin(FakeState):
    """The gateway half of FakeDiscord: sessions, connections and their control."""

    # -- gateway control --------------------------------------------------------------


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

    async def channel_updated(self, channel: FakeChannel) -> None:
        """Tell the bot a channel changed (CHANNEL_UPDATE), e.g. after world.deny(...)."""
        guild = self.world.guild(channel.guild_id)
        await self.dispatch("CHANNEL_UPDATE", channel.payload(), guild=guild)

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
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            await self._request_members(conn, data or {})
        elif op == 3:
            self.presence_updates.append(data or {})
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
        guilds = self.world.guilds_for_shard(shard)  # type: ignore[arg-type]
        if len(guilds) > self.max_guilds_per_shard:
            await conn.ws.close(code=4011, message=b"Sharding required.")
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

"""The fake Discord's REST side: auth, faults, rate-limit headers, commands, channels, guilds."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .interactions import DEFERRED_UPDATE_MESSAGE
from .records import FakeError, RecordedFile, RecordedRequest, StoredMessage
from .state import API_PREFIX, FakeState
from .validation import Problems, form_errors, validate_commands
from .world import (
    ATTACH_FILES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
)

INTERACTION_TOKEN_ROUTE = re.compile(r"^/(?:interactions/\d+|webhooks/\d+)/([^/]+)")
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




def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # aiohttp's json_response appends "; charset=utf-8"; discord.py then treats the body as text.
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)



class RestMixin(FakeState):
    """REST half of FakeDiscord: plumbing, application commands, channels and guilds."""

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
            response = json_response(exc.body, exc.status)
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
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not use it
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    data = await part.read(decode=False)
                    files.append(RecordedFile(part.name or "", part.filename or "",
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
                return json_response(fault.body, fault.status, fault.headers)
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
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response({
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000,
                                    "max_concurrency": 1},
        })

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.world.bot.payload(), "verified": True, "mfa_enabled": False,
                               "email": None, "locale": "en-US"})

    async def _get_user(self, request: web.Request) -> web.Response:
        try:
            user = self.world.user(int(request.match_info["user_id"]))
        except KeyError:
            raise FakeDiscordError(404, 10013, "Unknown User") from None
        return json_response(user.payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[REC].json or {}
        try:
            user = self.world.user(int(body["recipient_id"]))
        except (KeyError, ValueError):
            raise FakeDiscordError(400, 50035, "Invalid Form Body", kind="invalid body") from None
        return json_response(self.world.dm_channel(user).payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(self.world.application_payload())

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
        return json_response(self._command_list(self._command_scope(request)))

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
        return json_response(stored)

    async def _upsert_command(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        spec = request[REC].json or {}
        problems = validate_commands([spec])
        if problems:
            raise invalid_form(problems)
        existing = self._command_list(guild_id)
        command = self._stored_command(spec, guild_id, existing)
        existing[:] = [c for c in existing if c["id"] != command["id"]] + [command]
        return json_response(command, 201)

    def _find_command(self, request: web.Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        commands = self._command_list(self._command_scope(request))
        for command in commands:
            if command["id"] == request.match_info["command_id"]:
                return commands, command
        raise FakeDiscordError(404, 10063, "Unknown application command")

    async def _get_command(self, request: web.Request) -> web.Response:
        return json_response(self._find_command(request)[1])

    async def _edit_command(self, request: web.Request) -> web.Response:
        _, command = self._find_command(request)
        command.update(request[REC].json or {})
        return json_response(command)

    async def _delete_command(self, request: web.Request) -> web.Response:
        commands, command = self._find_command(request)
        commands.remove(command)
        return web.Response(status=204)

    async def _get_command_permissions(self, request: web.Request) -> web.Response:
        self._command_scope(request)
        return json_response([])

    def find_command(
        self, name: str, guild: FakeGuild | None, kind: int = 1,
    ) -> tuple[dict[str, Any], int | None] | None:
        """A synced command of `kind` (1 chat input, 2 user, 3 message) visible in guild:
        (schema, guild_id if guild-scoped)."""
        if guild is not None:
            for command in self.guild_commands.get(guild.id, []):
                if command["name"] == name and command["type"] == kind:
                    return command, guild.id
        for command in self.global_commands:
            if command["name"] == name and command["type"] == kind:
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

    def _channel_message(self, request: web.Request, channel: FakeChannel) -> StoredMessage:
        stored = self.messages.get(int(request.match_info["message_id"]))
        if stored is None or stored.deleted or stored.channel_id != channel.id or stored.ephemeral:
            raise FakeDiscordError(404, 10008, "Unknown Message")
        return stored

    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).payload())

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        guild = self._guild_of(channel)
        perms = guild.channel_permissions_for(self.world.bot.id, channel) if guild else -1
        if not perms & VIEW_CHANNEL:
            raise FakeDiscordError(403, 50001, "Missing Access")
        if not perms & READ_MESSAGE_HISTORY:
            return json_response([])  # Discord answers an empty history, not an error
        limit = int(request.query.get("limit", 50))
        found = self.channel_messages(channel.id)  # oldest first
        if "after" in request.query:
            after = int(request.query["after"])
            found = [m for m in found if m.id > after][:limit]
        else:
            before = int(request.query.get("before", 0)) or None
            found = [m for m in found if before is None or m.id < before][-limit:]
        return json_response([m.payload for m in reversed(found)])

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        rec: RecordedRequest = request[REC]
        guild = self._guild_of(channel)
        if guild is not None:
            perms = guild.channel_permissions_for(self.world.bot.id, channel)
            if not perms & VIEW_CHANNEL:
                raise FakeDiscordError(403, 50001, "Missing Access")
            needed = SEND_MESSAGES | (ATTACH_FILES if rec.files else 0)
            if perms & needed != needed:
                raise FakeDiscordError(403, 50013, "Missing Permissions")
        elif channel.recipients and not channel.recipients[0].dms_open:
            raise FakeDiscordError(403, 50007, "Cannot send messages to this user")
        body = rec.json or {}
        reference = body.get("message_reference")
        stored = self._create_message(
            channel, body, rec.files, author=self.world.bot, kind=19 if reference else 0
        )
        return json_response(stored.payload)

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(self._channel_message(request, channel).payload)

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = self._channel_message(request, channel)
        if stored.payload["author"]["id"] != str(self.world.bot.id):
            raise FakeDiscordError(403, 50005, "Cannot edit a message authored by another user")
        rec: RecordedRequest = request[REC]
        self._apply_edit(stored, rec.json or {}, rec.files)
        for handle in self.interactions.values():
            # A type 6 deferral may be finished by editing the clicked message directly.
            if handle.source_message is stored and handle.callback_type == DEFERRED_UPDATE_MESSAGE:
                handle.updates_after_ack += 1
        return json_response(stored.payload)

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
        return json_response(data)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        return json_response([c.payload() for c in self._guild(request).channels])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.payload() for r in self._guild(request).roles])

    async def _list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted((m for m in guild.members if m.user.id > after), key=lambda m: m.user.id)
        return json_response([m.payload() for m in members[:limit]])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.member(int(request.match_info["user_id"]))
        if member is None:
            raise FakeDiscordError(404, 10007, "Unknown Member")
        return json_response(member.payload())

    async def _download(self, request: web.Request) -> web.Response:
        blob = self._blobs.get(int(request.match_info["attachment_id"]))
        if blob is None or blob[0] != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(request.path)
        self._notify()
        return web.Response(body=blob[1], content_type=blob[2] or "application/octet-stream")

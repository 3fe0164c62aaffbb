"""Messages the bot creates and edits, and the interaction callback and followup routes."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import re
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    FakeFile,
    InteractionHandle,
)
from .records import EPHEMERAL, LOADING, RecordedFile, RecordedRequest, StoredMessage
from .rest import REC, FakeDiscordError, invalid_form, json_response
from .state import FakeState
from .validation import validate_choices, validate_message
from .world import FakeChannel, FakeGuild, FakeUser, now_iso

MENTION_USER = re.compile(r"<@!?(\d+)>")
MENTION_ROLE = re.compile(r"<@&(\d+)>")


class MessagingMixin(FakeState):
    """Message store and interaction REST routes of FakeDiscord."""

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
            upload = by_index.get(int(key)) if key is not None and str(key).isdigit() else None
            if upload is None:
                raise invalid_form({"attachments": f"Unknown attachment {key!r}"})
            result.append(self.host_attachment(
                FakeFile(entry.get("filename") or upload.filename, upload.data), channel_id,
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
        message_id = self.world.ids.timed()  # its creation time, as Discord's ids
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
                **({"name": name, "command_type": (interaction.payload.get("data") or {}).get("type", 1)}
                   if interaction.type == APPLICATION_COMMAND else {}),
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
        if app_id is not None and time.monotonic() - handle.created_at > self.token_lifetime:
            # The token's 15 minutes are over: followups and @original edits are refused.
            raise FakeDiscordError(404, 10015, "Unknown Webhook", kind="token expired")
        return handle

    def expire_token(self, handle: InteractionHandle) -> None:
        """Age an interaction past its token's lifetime (as if 15 minutes had passed)."""
        handle.created_at -= self.token_lifetime + 1

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
        return json_response({"interaction": interaction_info, "resource": resource})

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
        if (handle.callback_type == DEFERRED_CHANNEL_MESSAGE and original is not None
                and original.loading and not original.deleted):
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
            return json_response(stored.payload)
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        return json_response(self._webhook_message(handle, request.match_info["message_id"]).payload)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        rec: RecordedRequest = request[REC]
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        stored = self._webhook_message(handle, request.match_info["message_id"])
        self._apply_edit(stored, rec.json or {}, rec.files)
        handle.updates_after_ack += 1
        return json_response(stored.payload)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        handle = self._handle(request.match_info["token"], app_id=request.match_info["app_id"])
        stored = self._webhook_message(handle, request.match_info["message_id"])
        stored.deleted = True
        handle.updates_after_ack += 1
        return web.Response(status=204)

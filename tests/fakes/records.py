"""What the fake Discord records: REST requests, uploaded files, messages, errors, heartbeats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass
class RecordedFile:
    """One file part of a multipart request."""

    field: str
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass
class RecordedRequest:
    """One REST request the bot made (path is relative to /api/v10)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    time: float
    status: int = 0
    response: Any = None
    fault: str | None = None

    @property
    def route(self) -> str:
        """"METHOD /path", the string fault injection matches against."""
        return f"{self.method} {self.path}"

    def __repr__(self) -> str:
        return f"<{self.route} -> {self.status}{' (' + self.fault + ')' if self.fault else ''}>"


@dataclass
class FakeError:
    """A request Discord would have rejected (unknown route, invalid body, late ack...)."""

    kind: str
    method: str
    path: str
    status: int
    detail: Any

    def __str__(self) -> str:
        return f"{self.kind}: {self.method} {self.path} -> {self.status} {self.detail}"


@dataclass
class Heartbeat:
    """A heartbeat (op 1) received on a gateway connection."""

    connection_id: int
    shard: tuple[int, int] | None
    time: float
    sequence: int | None


@dataclass
class StoredMessage:
    """A message the bot created (channel post, interaction response or followup)."""

    payload: dict[str, Any]
    allowed_mentions: dict[str, Any] | None = None
    files: list[RecordedFile] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    interaction_token: str | None = None

    @property
    def id(self) -> int:
        """Message id."""
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        """Channel id."""
        return int(self.payload["channel_id"])

    @property
    def guild_id(self) -> int | None:
        """Guild id (None in DMs)."""
        value = self.payload.get("guild_id")
        return int(value) if value else None

    @property
    def content(self) -> str:
        """Message text."""
        return self.payload.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds as sent."""
        return self.payload.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        """Components as sent (action rows, or V2 layout components)."""
        return self.payload.get("components") or []

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """Attachment objects (filename, size, content_type, url)."""
        return self.payload.get("attachments") or []

    @property
    def flags(self) -> int:
        """Message flags."""
        return int(self.payload.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user can see it."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred "is thinking..." placeholder."""
        return bool(self.flags & LOADING)

    @property
    def edited(self) -> bool:
        """Whether the message was edited after creation."""
        return bool(self.history)

    def walk_components(self) -> list[dict[str, Any]]:
        """Every component, depth first (rows, sections, containers and their children)."""
        found: list[dict[str, Any]] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                found.append(item)
                walk(item.get("components") or [])
                for key in ("accessory", "component"):
                    if isinstance(item.get(key), dict):
                        walk([item[key]])

        walk(self.components)
        return found

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        """The component with this custom_id, if any."""
        for comp in self.walk_components():
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    @property
    def custom_ids(self) -> list[str]:
        """custom_ids of every interactive component."""
        return [c["custom_id"] for c in self.walk_components() if c.get("custom_id")]

    @property
    def text(self) -> str:
        """Content plus every embed's title, description, fields and footer, for substring asserts."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for fld in embed.get("fields") or []:
                parts += [fld.get("name") or "", fld.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        for comp in self.walk_components():
            if comp.get("type") == 10:
                parts.append(comp.get("content") or "")
        return "\n".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<StoredMessage id={self.id} flags={self.flags} content={self.content[:60]!r}>"

"""One logging set-up for the CLI and the bot: text for people, JSON lines for collectors.

Every line is masked on its way out (`Redactor`): Discord interaction and webhook tokens (in the
URLs discord.py logs at DEBUG), a password inside any URL, and the secrets the settings name
(the bot token, the database password), whatever logger wrote them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
MASK = "***"
# (pattern, replacement): what live credentials look like wherever they are printed.
_PATTERNS = (
    # discord.py's REST routes: /interactions/<id>/<token>/callback and
    # /webhooks/<application or webhook id>/<token>/... (an interaction's token edits its
    # replies for 15 minutes; a webhook's posts to its channel for good).
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"), rf"\1{MASK}"),
    # A "token" key in a logged payload (INTERACTION_CREATE carries one).
    (re.compile(r"""(["']token["']\s*:\s*["'])[^"']+"""), rf"\1{MASK}"),
    # A bot token: three dot-separated base64 parts.
    (re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"), MASK),
    # The password in scheme://user:password@host, up to the last '@' before the path (an
    # unencoded '@' in the password must not leave its tail). Lengths are bounded so a huge
    # line (a logged payload) costs linear time.
    (re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@]{0,256}:)[^\s/]{0,1024}@"),
     rf"\1{MASK}@"),
)


class Redactor:
    """Masks credentials in text: the patterns above and any secret it was told about."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Also mask these strings from now on (empty and one-character ones are ignored)."""
        self.secrets = sorted({*self.secrets, *(s for s in secrets if len(s) >= 2)},
                              key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any `extra=` fields kept as keys; credentials masked."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        # Strings masked before encoding (a secret with a quote in it would not match once
        # escaped), then the line (for tokens inside `extra=` lists and dicts).
        payload = {k: self.redact(v) if isinstance(v, str) else v for k, v in payload.items()}
        return self.redact(json.dumps(payload, default=str))


class TextFormatter(logging.Formatter):
    """Human-readable lines, with `extra=` fields appended as key=value; credentials masked."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return self.redact(line)


def _redactors() -> list[Redactor]:
    return [redact for handler in logging.getLogger().handlers
            if isinstance(redact := getattr(handler.formatter, "redact", None), Redactor)]


def hide_in_logs(secrets: Iterable[str]) -> None:
    """Mask these strings in every line the logging set-up writes from now on (settings are
    read after logging is set up, so their secrets arrive here)."""
    values = list(secrets)
    for redact in _redactors():
        redact.add(values)


def redact(text: str) -> str:
    """`text` masked as the log lines are: for messages printed outside logging."""
    for redactor in _redactors() or [Redactor()]:
        text = redactor(text)
    return text


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once, to stderr, and quieten chatty libraries; `secrets`
    (and interaction tokens, URL passwords) are masked in every line."""
    masker = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(masker) if fmt == "json" else TextFormatter(masker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "sentence_transformers", "transformers", "urllib3",
                  "filelock", "huggingface_hub", "trafilatura", "htmldate", "matplotlib",
                  "apscheduler.executors.default", "discord.gateway", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

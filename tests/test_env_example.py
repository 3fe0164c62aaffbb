"""`.env.example` documents every setting the bot and the library read."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import BotSettings

REPO = Path(__file__).resolve().parent.parent


def test_every_setting_is_listed_with_a_comment() -> None:
    """Each settings field appears in .env.example, preceded by a comment line."""
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    missing, uncommented = [], []
    for field in BotSettings.model_fields:
        name = field.upper()
        index = next((i for i, line in enumerate(lines)
                      if re.match(rf"^#?\s*{name}=", line)), None)
        if index is None:
            missing.append(name)
            continue
        above = [line for line in lines[:index] if line.strip()]
        if not above or not (above[-1].startswith("#") or re.match(r"^#?\s*[A-Z_]+=", above[-1])):
            uncommented.append(name)
    assert not missing, f"not in .env.example: {missing}"
    assert not uncommented

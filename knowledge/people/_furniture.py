"""Page furniture that names people who did not write the article: teasers for other pieces."""

from __future__ import annotations

import re

from knowledge.people._patterns import clean_name

_TEASER_END = re.compile(r"^(?:Expert Opinions|Related(?: articles?| content)?|Read more|"
                         r"See also|More on this topic|Featured Content)\b", re.IGNORECASE)


def teaser_spans(text: str, title: str = "") -> list[tuple[int, int]]:
    """Blocks advertising other articles: a headline line, then a line that is only a name.

    Page furniture keeps such blocks ("Russia-Japan Dialogue: The Sanctions Factor / Ivan
    Timofeev / ... / Expert Opinions"); the name there is another piece's author.
    """
    lines = list(re.finditer(r"[^\n]*", text))
    lines = [m for m in lines if m.start() != m.end() or m.start() == 0]
    spans: list[tuple[int, int]] = []
    title_key = re.sub(r"\W+", " ", title).strip().lower()
    for i in range(1, len(lines)):
        line = lines[i].group(0).strip()
        head = lines[i - 1].group(0).strip()
        if not line or not head or clean_name(line) != line:
            continue
        if re.sub(r"\W+", " ", head).strip().lower() == title_key or head[-1] in ".!?\"”":
            continue
        end = lines[i].end()
        for j in range(i + 1, min(i + 4, len(lines))):
            nxt = lines[j].group(0).strip()
            if not nxt:
                break
            end = lines[j].end()
            if _TEASER_END.match(nxt):
                break
        spans.append((lines[i - 1].start(), end))
    return spans

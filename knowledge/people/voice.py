"""Whether a passage carries an expert's own words, so that their views can be searched."""

from __future__ import annotations

import re

from knowledge.people._patterns import SPEECH_VERB, is_name_line, normalize_spaces
from knowledge.people.mention import PersonMention
from knowledge.text.furniture import is_furniture, teaser_spans
from knowledge.text.split import split_sentences

_PRONOUN_SPEECH = re.compile(rf"\b(?:he|she)[ \t]+{SPEECH_VERB}\b", re.IGNORECASE)


def _names(person: PersonMention) -> str:
    full = re.escape(person.name)
    surname = re.escape(person.name.split()[-1])
    return rf"(?:{full}|{surname})"


def passage_voice(passage_text: str, person: PersonMention) -> bool:
    """Whether the passage carries this person's words (their article, comments or answers)."""
    passage_text = normalize_spaces(passage_text)
    names = _names(person)
    sentences = [s for line in re.finditer(r"[^\n]+", passage_text)
                 for s in split_sentences(line.group(0), line.start())]
    if person.voice == "whole":
        # Every sentence is theirs except furniture (teasers for other articles included) and
        # the lines that introduce them in the third person (an intro, a bio, a footnote).
        teasers = teaser_spans(passage_text, "", is_name_line)
        mentions = re.compile(rf"\b{names}\b")
        return any(len(s.text.split()) >= 4 and not is_furniture(s.text)
                   and not mentions.search(s.text)
                   and not any(a <= s.start < b for a, b in teasers) for s in sentences)
    attributed = re.compile(rf"\b{names}\b[^.!?]*?\b{SPEECH_VERB}\b|\b{SPEECH_VERB}[ \t]+{names}\b"
                            rf"|\baccording to[ \t]+(?:[a-z]+[ \t]+){{0,3}}{names}\b")
    if any(attributed.search(s.text) for s in sentences):
        return True
    # In an interview the expert is the one voice: "“...,” he told" is theirs too.
    return person.relation == "interviewed" and bool(_PRONOUN_SPEECH.search(passage_text)) \
        and bool(re.search(r"[\"“”]", passage_text))

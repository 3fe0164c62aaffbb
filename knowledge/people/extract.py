"""Who speaks in an article: the author who wrote it, the expert whose answers or comments it
carries, and the people it merely quotes. Politicians it discusses are subjects, not experts."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from knowledge.models import Relation
from knowledge.people._patterns import (
    NAME,
    SPEECH_VERB,
    clean_name,
    clean_role,
    gov_before_name,
    gov_role,
    has_title_word,
    is_name_line,
    normalize_spaces,
)
from knowledge.people.mention import PersonMention, Voice
from knowledge.people.names import canonical_person_key, merge_names
from knowledge.people.subjects import find_subject
from knowledge.people.voice import passage_voice
from knowledge.scope import alternation, load_scope
from knowledge.text.dates import BYLINE
from knowledge.text.furniture import teaser_spans

__all__ = ["PersonMention", "canonical_person_key", "extract_people", "merge_names",
           "passage_voice"]

log = logging.getLogger(__name__)

_Kind = Literal["author", "interview", "told", "quote"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    kind: _Kind
    role: str | None
    evidence: str
    start: int


class _Patterns:
    """The extractor's regular expressions, compiled on first use (`_patterns()`): a process
    that only answers questions imports this module (through enrichment) but never runs it."""

    def __init__(self) -> None:
        # "By X, role" and "Commentary by Professor X, role" (the one byline pattern)
        self.byline = BYLINE
        # "notes Tokyo Foundation President Masahiro Akiyama in an article originally
        # published by ..."
        self.notes_in_article = re.compile(
            r"\b(?:notes|writes|argues|says|observes|suggests|explains|contends|warns)[ \t]+"
            r"(?P<rn>(?:[A-ZÀ-Þ][\w&.'’()-]*[ \t]+){2,9}?)in[ \t]+(?:an?|this|the|his|her)[ \t]+"
            r"(?:\w+[ \t]+)?(?:article|essay|commentary|op-ed|piece|column|analysis|paper)\b")
        self.bio = re.compile(rf"^(?:About the authors?:?[ \t]*)?(?P<name>{NAME})[ \t]+is[ \t]+"
                              r"(?:(?:a|an|the)[ \t]+)?(?P<rest>[^\n]+)$")
        # "The ... think tank presents the comments of Dmitry Streltsov, PhD ..., on Abe's visit"
        self.presents = re.compile(
            r"\b(?:presents?|offers?|publishes|shares?|brings)[ \t]+"
            r"(?:the[ \t]+|his[ \t]+|her[ \t]+)?"
            r"(?:comments?|commentary|views|opinions?|thoughts|answers|assessment|analysis)[ \t]+"
            rf"(?:of|by|from)[ \t]+(?P<name>{NAME})(?:,[ \t]*(?P<role>[^\n]+?))?,?[ \t]+"
            r"(?:on|about|regarding|concerning)\b")
        self.commenting = re.compile(rf"(?P<name>{NAME})(?:,[ \t]*(?P<role>[^.;\n]+?),)?[ \t]+"
                                     r"(?:commented|comments|commenting)[ \t]+on\b")
        self.interview_with = re.compile(
            r"\b(?i:in an interview with|interviewed|spoke (?:with|to)|talked (?:with|to)|asked)"
            rf"[ \t]+(?P<name>{NAME})(?:,[ \t]*(?P<role>[^.;\n]+?)"
            r"(?:,|\.|[ \t]+(?:about|on|what|whether|how)\b))?")
        # "Masahiro Akiyama, Chairman of the ... (SSDP)  told about the prospects ..."
        self.told = re.compile(rf"(?P<name>{NAME}),[ \t]+(?P<role>[^.;:\"“”\n]{{3,200}}?)[ \t]*,?"
                               r"[ \t]+(?:told|tells)\b")
        # "X told us", "X told this website", or told one of the scope's outlets ("Valdai").
        outlets = alternation(load_scope().outlets)
        self.told_us = re.compile(
            rf"(?P<name>{NAME})[ \t]+(?:told|tells)[ \t]+(?:us|our|"
            rf"{outlets + '|' if outlets else ''}this (?:website|publication|outlet))\b")
        self.quote_appositive = re.compile(
            rf"(?P<name>{NAME}),[ \t]+(?P<role>[^.;:\"“”\n]{{3,150}}?),[ \t]+{SPEECH_VERB}\b")
        self.quote_plain = re.compile(rf"(?P<name>{NAME})[ \t]+{SPEECH_VERB}\b")
        self.according_to = re.compile(
            rf"\baccording to[ \t]+(?:[a-z]+[ \t]+){{0,3}}(?P<name>{NAME})")
        self.bullet = re.compile(r"^[ \t]*[•*·▪-][ \t]+(?P<item>[^\n]+?)[ \t]*$")
        self.others: tuple[tuple[re.Pattern[str], _Kind], ...] = (
            (self.presents, "interview"), (self.commenting, "interview"),
            (self.interview_with, "interview"), (self.told, "told"), (self.told_us, "told"),
            (self.quote_appositive, "quote"), (self.quote_plain, "quote"),
            (self.according_to, "quote"))


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


def _in_spans(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _is_subject(name: str, text: str, start: int, role: str | None) -> bool:
    """Whether a name denotes a politician or official rather than an expert."""
    if find_subject(name) is not None:
        return True
    if role and gov_role().search(role):
        return True
    return bool(gov_before_name().search(text[max(0, start - 60):start]))


def _split_role_name(run: str) -> tuple[str | None, str | None]:
    """Split "Tokyo Foundation President Masahiro Akiyama" into role and name."""
    tokens = run.split()
    last_title = max((i for i, t in enumerate(tokens) if has_title_word(t)), default=-1)
    role = " ".join(tokens[:last_title + 1]) or None
    return clean_role(role), clean_name(" ".join(tokens[last_title + 1:]))


def _author_candidates(text: str) -> list[_Candidate]:
    """Bylines, "notes X in an article" intros and trailing author bios."""
    out: list[_Candidate] = []
    first_part = max(len(text) // 4, 400)
    for m in _patterns().byline.finditer(text):
        if m.start() > first_part:
            continue
        # "By A, B and C, Research Fellow, Example Institute": names until the first part
        # that is not a name, then the role.
        parts = re.split(r"[ \t]*(?:,|\band\b|&|\||[–—])[ \t]*", m.group("rest").strip())
        names: list[str] = []
        titled = None  # "By Professor Tomas Reddick, historian at ...": the title is a role
        if parts and clean_name(parts[0]) is None:
            titled, name = _split_role_name(parts[0])
            if titled and name:
                names.append(name)
                parts.pop(0)
        while parts and (name := clean_name(parts[0])) is not None:
            names.append(name)
            parts.pop(0)
        role = clean_role(", ".join(parts)) if parts else None
        role = ", ".join(r for r in (titled, role) if r) or None
        for name in names:
            out.append(_Candidate(name, "author", role, m.group(0).strip(), m.start()))
    for m in _patterns().notes_in_article.finditer(text):
        role, name = _split_role_name(m.group("rn"))
        if name:
            out.append(_Candidate(name, "author", role, m.group(0).strip(), m.start()))
    half = len(text) // 2
    for line in re.finditer(r"[^\n]+", text):
        if line.start() < half or len(line.group(0)) > 500:
            continue
        bio = _patterns().bio.match(line.group(0).strip())
        if not bio:
            continue
        name = clean_name(bio.group("name"))
        role = _bio_role(bio.group("rest"))
        if name and role and has_title_word(role):
            out.append(_Candidate(name, "author", role, line.group(0).strip(), line.start()))
    return out


def _bio_role(rest: str) -> str | None:
    """The role in a bio line: its first sentence, without a trailing ", where she leads ..."."""
    role = re.split(r",\s+(?:where|who|which|and is|and has|since)\b", _first_sentence(rest))[0]
    return clean_role(role)


def _first_sentence(text: str) -> str:
    """The text up to the first full stop that ends a sentence (not "Ph.D." or "U.S.")."""
    for m in re.finditer(r"\.(?=\s+[A-Z]|\s*$)", text):
        before = text[:m.start()].split()[-1] if text[:m.start()].split() else ""
        if re.fullmatch(r"(?:[A-Z]|Ph\.D|U\.S|Dr|Prof|St|Jr)", before):
            continue
        return text[:m.start()]
    return text


def _other_candidates(text: str) -> list[_Candidate]:
    """Interview and comment intros, and plain quotations."""
    out: list[_Candidate] = []
    for pattern, kind in _patterns().others:
        for m in pattern.finditer(text):
            name = clean_name(m.group("name"))
            if not name:
                continue
            role = clean_role(m.groupdict().get("role"))
            # Where the cleaned name starts: "Foreign Minister Taro Yamada" -> "Taro Yamada".
            start = m.start("name") + max(m.group("name").find(name), 0)
            out.append(_Candidate(name, kind, role, _sentence_around(text, m.start(), m.end()),
                                  start))
    return out


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or line) holding a match, for evidence."""
    left = max(text.rfind("\n", 0, start), text.rfind(". ", 0, start) + 1, 0)
    right_candidates = [p for p in (text.find("\n", end), text.find(". ", end)) if p != -1]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    return text[left:right].strip()


def _attributions(text: str, name: str) -> int:
    """How many times the text attributes words to this person (by full name or surname)."""
    surname = name.split()[-1]
    pattern = re.compile(rf"\b(?:{re.escape(name)}|{re.escape(surname)})\b(?:,[^.;\n]{{0,200}}?,?)?"
                         rf"[ \t]+{SPEECH_VERB}\b|\b{SPEECH_VERB}[ \t]+(?:{re.escape(surname)})\b")
    return len(pattern.findall(text))


def _bullet_roles(text: str, name: str) -> list[str]:
    """Roles listed in a bullet block just before a bullet holding the person's name."""
    key = canonical_person_key(name)
    items = [(m.group("item"), i) for i, line in enumerate(text.splitlines())
             if (m := _patterns().bullet.match(line))]
    roles = []
    for (item, line_no), (prev, prev_no) in zip(items[1:], items, strict=False):
        if canonical_person_key(item) == key and prev_no == line_no - 1 \
                and clean_name(prev) is None and has_title_word(prev):
            roles.append(clean_role(prev) or prev)
    return roles


def extract_people(text: str, *, title: str,
                   metadata_authors: Iterable[str] = ()) -> list[PersonMention]:
    """The experts an article names, with their relation to it and role, authors first.

    Politicians and officials (the curated subjects list, or anyone named with a government
    office) are left out, and so is any name that only appears in a teaser for another article.
    When unsure, a person is left out rather than attributed wrongly.
    """
    text = normalize_spaces(text)
    teasers = teaser_spans(text, title, is_name_line)
    candidates = [c for c in _author_candidates(text) + _other_candidates(text)
                  if not _in_spans(c.start, teasers)
                  and not _is_subject(c.name, text, c.start, c.role)]
    for raw in metadata_authors:
        name = raw.strip()
        positions = [m.start() for m in re.finditer(re.escape(name), text)]
        if positions and all(_in_spans(p, teasers) for p in positions):
            log.warning("metadata author %r appears only in a teaser for another article; "
                        "not attributing", name)
            continue
        if name:
            candidates.append(_Candidate(name, "author", None, "metadata", -1))

    display = merge_names(c.name for c in candidates)
    by_person: dict[str, list[_Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.start):
        by_person.setdefault(canonical_person_key(display[c.name]), []).append(c)

    has_author = any(c.kind == "author" for cs in by_person.values() for c in cs)
    people: list[PersonMention] = []
    for cands in by_person.values():
        name = display[cands[0].name]
        kinds = {c.kind for c in cands}
        attributions = _attributions(text, name)
        relation: Relation
        if "author" in kinds:
            relation, chosen = "author", [c for c in cands if c.kind == "author"]
        elif "interview" in kinds:
            relation, chosen = "interviewed", [c for c in cands if c.kind == "interview"]
        elif "told" in kinds and not has_author and attributions >= 2:
            relation, chosen = "interviewed", [c for c in cands if c.kind == "told"]
        else:
            relation, chosen = "quoted", cands
        roles = [c.role for c in chosen if c.role] + [c.role for c in cands if c.role]
        roles += _bullet_roles(text, name)
        roles = list(dict.fromkeys(roles))
        evidence = next((c.evidence for c in chosen if c.evidence != "metadata"),
                        chosen[0].evidence)
        if relation == "author":
            voice: Voice = "whole"
        elif relation == "interviewed":
            # An interview reports the expert's words ("Akiyama noted ..."); a comment piece
            # is the expert's text throughout and names them only in its introduction.
            voice = "attributed" if attributions >= 2 else "whole"
        else:
            voice = "attributed"
        people.append(PersonMention(name, relation, roles[0] if roles else None, evidence,
                                    tuple(roles[1:]), voice))
    order = {"author": 0, "interviewed": 1, "quoted": 2}
    people.sort(key=lambda p: order[p.relation])
    log.debug("extracted %d people from %r", len(people), title)
    return people

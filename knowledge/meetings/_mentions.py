"""Meeting mentions in one sentence: places, dates, people, events and ordinals, grouped into the
phrases that name a meeting ("Lima in November", "the two-plus-two meeting held in March in
Tokyo", "Putin's visit to Japan in December", "the 25th Putin-Abe summit")."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from typing import Literal

from knowledge.meetings._times import MONTH_NAMES, ArticleRange, TimeExpr, find_times
from knowledge.meetings.vocabulary import CHAR_MAP, Place, Vocabulary, load_vocabulary
from knowledge.people.names import canonical_person_key
from knowledge.people.subjects import Subject

__all__ = ["ArticleRange", "Mention", "Place", "TimeExpr", "find_mentions", "hedged",
           "normalise", "participant_keys"]

Direction = Literal["past", "future"]


@dataclasses.dataclass(frozen=True, slots=True)
class Anchor:
    """One recognised expression and where it sits in the sentence."""

    kind: str  # ordinal, visit, event, place, meeting, time, person, tense, bilateral
    start: int
    end: int
    value: object = None
    extra: object = None


@dataclasses.dataclass
class Mention:
    """A phrase that names (or may name) one meeting, with everything it says about it."""

    sentence: str
    start: int
    end: int
    place: Place | None = None
    visit: bool = False
    plural: bool = False
    visitor: Subject | None = None
    event: str | None = None
    ordinal: int | None = None
    meeting_word: bool = False
    summit: bool = False  # called a summit: a leaders' meeting, not an official's visit
    time: TimeExpr | None = None
    persons: list[Subject] = dataclasses.field(default_factory=list)
    direction: Direction | None = None
    recent: bool = False
    bilateral: bool = False
    core: list[Anchor] = dataclasses.field(default_factory=list)
    person_anchors: list[Anchor] = dataclasses.field(default_factory=list)

    @property
    def evidence(self) -> str:
        """The matching phrase as the text has it."""
        return self.sentence[self.start:self.end].strip(" ,;:")

    @property
    def countries(self) -> set[str]:
        """Countries the mention involves through its people and place."""
        out = {p.country for p in self.persons}
        if self.visitor:
            out.add(self.visitor.country)
        if self.place:
            out.add(self.place.country)
        return out


# --- text normalisation (length-preserving, so spans index the original text) -----------------

def normalise(text: str) -> str:
    """Straighten quotes and dashes and blank out footnote markers, keeping every offset."""
    text = text.translate(CHAR_MAP)
    return re.sub(r"\[\d{1,3}\]", lambda m: " " * len(m.group(0)), text)


# --- language (the topic's words are in the Vocabulary) ----------------------------------------

_ORDINAL = re.compile(r"\b(?P<n>\d{1,3})(?:st|nd|rd|th)\s+(?:[\w'-]+\s+){0,3}?"
                      r"(?:meeting|summit|talks|round)s?\b")
_MEETING = re.compile(r"\b(?P<w>summits?|meetings?|talks|visits?|met|meets?)\b", re.IGNORECASE)
_TENSE = re.compile(r"\b(?P<w>recent(?:ly)?|latest|last|previous|past|upcoming|forthcoming|"
                    r"expected|next|planned|scheduled|coming|future|prospective)\b")
_PAST_WORDS = {"recent", "recently", "latest", "last", "previous", "past"}
_RECENT_WORDS = {"recent", "recently", "latest", "last"}
# Speculation about a meeting, not a meeting: "could visit", "a possible visit", "I think we are
# going to see Putin visiting", "whether Putin will visit". Only hedges that govern the meeting
# phrase count ("the same could be said about the recent meeting" is no hedge on the meeting).
_HEDGE = re.compile(
    r"\b(?:could|might|may|would|should|to|will)\s+(?:\w+\s+)?(?:visit|meet|hold|travel|come)\b"
    r"|\b(?:[Pp]ossible|possibly|[Pp]otential|prospective|likely|rumou?red|hypothetical|planned)"
    r"\s+(?:\w+\s+)?(?:visits?|summits?|meetings?|trips?|talks)\b"
    r"|\bgoing to see\b|\bI (?:think|believe|expect)\b|\b[Ww]hether\b|\b[Ii]f\b")


def hedged(mention: Mention) -> bool:
    """Whether the mention is speculation ("Putin could visit Japan later this year")."""
    window = mention.sentence[max(0, mention.start - 60):mention.end]
    return bool(_HEDGE.search(window))


MEETING_WORDS = re.compile(r"\b(?:summits?|meetings?|talks|visit(?:s|ed|ing)?|met|meet|"
                           r"negotiations)\b", re.IGNORECASE)
_VISIT = re.compile(
    r"(?P<verb>paid (?:a|an official|a state|an unofficial) visit|visit(?:ed|ing|s)?|trips?|"
    r"travell?ed|went|arrived)(?:\s+of\s+(?P<of>[^,.;]{1,70}?))?\s+(?:to\s+|in\s+)?(?:the\s+)?"
    r"(?P<place>PLACE)")
_POSSESSIVE_BEFORE_VISIT = re.compile(r"(?P<name>[A-Z][\w-]+(?: [A-Z][\w-]+){0,2})'s\s+"
                                      r"(?:[a-z-]+\s+){0,2}$")
_TIME_CONNECTOR = re.compile(r"^,?[^,;:()\"]{0,60}$")
_HEAD_CONNECTOR = re.compile(
    r"^[\s,]*(?:(?:summit|meeting|talks|ministerial|held|forum|opening|ceremony|games|sidelines|"
    r"in|at|of|on|the|during|a|an|for|with|-|,)\s*)*$", re.IGNORECASE)


# --- anchors --------------------------------------------------------------------------------------

@functools.cache
def _visit_re(vocabulary: Vocabulary) -> re.Pattern[str]:
    return re.compile(_VISIT.pattern.replace("PLACE", vocabulary.place_names))


def _place_ok(sentence: str, start: int, end: int, vocabulary: Vocabulary) -> bool:
    """A place name, not an organisation ("Tokyo Foundation") or a government ("Tokyo's view");
    a month or an event may follow it ("Osaka G20")."""
    after = sentence[end:end + 30]
    if re.match(r"'s\b", after):
        return False
    nxt = re.match(r"\s+([A-Z][\w-]*)", after)
    return not nxt or nxt.group(1) in MONTH_NAMES or any(
        p.match(sentence, end + nxt.start(1)) for p in vocabulary.events.values())


def _anchors(sentence: str, article: ArticleRange | None, vocabulary: Vocabulary) -> list[Anchor]:
    """All anchors of the sentence; heads never overlap each other."""
    places = vocabulary.places
    people = vocabulary.people
    heads: list[Anchor] = []

    def add_head(anchor: Anchor) -> None:
        if not any(h.start < anchor.end and anchor.start < h.end for h in heads):
            heads.append(anchor)

    for m in _ORDINAL.finditer(sentence):
        add_head(Anchor("ordinal", m.start(), m.end(), int(m["n"])))
    for m in _visit_re(vocabulary).finditer(sentence):
        if not _place_ok(sentence, m.start("place"), m.end("place"), vocabulary) or \
                re.match(r"[\w-]", sentence[m.end():m.end() + 1]):
            continue
        start = m.start()
        visitor = None
        poss = _POSSESSIVE_BEFORE_VISIT.search(sentence[:m.start()])
        if poss and people.get(poss["name"].split()[-1]) and m["verb"].startswith("visit"):
            visitor = people.get(poss["name"].split()[-1])
            start = poss.start()
        if m["of"] and visitor is None:
            inner = [people.get(p.group(0)) for p in vocabulary.person_re.finditer(m["of"])]
            visitor = inner[-1] if inner else None
        plural = m["verb"] in ("visits", "trips") and not re.search(r"\b(?:he|she|it)\s+$",
                                                                   sentence[:m.start()])
        add_head(Anchor("visit", start, m.end(), places[m["place"]],
                        {"visitor": visitor, "plural": plural, "verb": m["verb"]}))
    for key, pattern in vocabulary.all_events.items():
        for m in pattern.finditer(sentence):
            add_head(Anchor("event", m.start(), m.end(), key))
    for m in vocabulary.place_re.finditer(sentence):
        if _place_ok(sentence, m.start(), m.end(), vocabulary):
            add_head(Anchor("place", m.start(), m.end(), places[m.group(0)]))
    for m in _MEETING.finditer(sentence):
        add_head(Anchor("meeting", m.start(), m.end(), m["w"].lower()))
    mods: list[Anchor] = [Anchor("time", start, end, expr)
                          for start, end, expr in find_times(sentence, article)]
    mods += [Anchor("person", m.start(), m.end(), people[m.group(0)])
             for m in vocabulary.person_re.finditer(sentence)]
    mods += [Anchor("tense", m.start(), m.end(), m["w"].lower()) for m in _TENSE.finditer(sentence)
             if not any(t.start <= m.start() < t.end for t in mods if t.kind == "time")]
    mods += [Anchor("bilateral", m.start(), m.end())
             for m in vocabulary.bilateral.finditer(sentence)]
    # A time inside a head ("the 2014 Sochi ..." is not, but "25th" is) is dropped.
    mods = [a for a in mods if a.kind == "person"
            or not any(h.start <= a.start and a.end <= h.end for h in heads)]
    return sorted(heads + mods, key=lambda a: (a.start, a.end))


def _blank(text: str, offset: int, anchors: Iterable[Anchor], titles: re.Pattern[str]) -> str:
    """The text with modifier anchors and official titles blanked, for connector checks."""
    chars = list(text)
    for a in anchors:
        for i in range(max(a.start - offset, 0), min(a.end - offset, len(chars))):
            chars[i] = " "
    return titles.sub(lambda m: " " * len(m.group(0)), "".join(chars))


def find_mentions(sentence: str, article: ArticleRange | None,
                  vocabulary: Vocabulary | None = None) -> tuple[list[Mention], list[TimeExpr]]:
    """The meeting mentions of one (normalised) sentence, and the times no mention took."""
    vocabulary = vocabulary or load_vocabulary()
    titles = vocabulary.titles
    anchors = _anchors(sentence, article, vocabulary)
    heads = [a for a in anchors if a.kind in ("ordinal", "visit", "event", "place", "meeting")]
    mods = [a for a in anchors if a not in heads]
    mentions: list[Mention] = []
    for head in heads:
        current = mentions[-1] if mentions else None
        if current is not None and _compatible(current, head) and _HEAD_CONNECTOR.match(
                _blank(sentence[current.end:head.start], current.end, mods, titles)):
            _add_head(current, head)
        else:
            mention = Mention(sentence, head.start, head.end)
            _add_head(mention, head)
            mentions.append(mention)
    loose_times: list[TimeExpr] = []
    for mod in mods:
        target = _attach(mod, mentions, sentence, mods, titles)
        if target is None:
            if mod.kind == "time":
                loose_times.append(mod.value)  # type: ignore[arg-type]
            continue
        _add_mod(target, mod)
    for mention in mentions:
        _finish(mention)
    return mentions, loose_times


def _compatible(mention: Mention, head: Anchor) -> bool:
    if head.kind in ("place", "visit"):
        return mention.place is None
    if head.kind == "event":
        return mention.event is None
    if head.kind == "ordinal":
        return mention.ordinal is None
    return True


def _add_head(mention: Mention, head: Anchor) -> None:
    mention.start, mention.end = min(mention.start, head.start), max(mention.end, head.end)
    mention.core.append(head)
    if head.kind == "place":
        mention.place = head.value  # type: ignore[assignment]
    elif head.kind == "visit":
        mention.place = head.value  # type: ignore[assignment]
        extra: dict[str, object] = head.extra  # type: ignore[assignment]
        mention.visit = True
        mention.plural = bool(extra["plural"])
        mention.visitor = extra["visitor"]  # type: ignore[assignment]
    elif head.kind == "event":
        mention.event = head.value  # type: ignore[assignment]
    elif head.kind == "ordinal":
        mention.ordinal = head.value  # type: ignore[assignment]
        mention.meeting_word = True
    elif head.kind == "meeting":
        word = str(head.value)
        mention.meeting_word = True
        mention.summit = mention.summit or word.casefold() in ("summit", "summits")
        if word in ("summits", "meetings", "visits"):
            mention.plural = True


# What may stand before a meeting that opens a sentence: "At their", "During the", "On a".
# Between such a meeting and a person of the subject (other names blanked): ", ", ", ... and".
_SUBJECT_GAP = re.compile(r"\s*,(?:[\s,]|\band\b)*")
_OPENER = re.compile(r"\s*(?:(?:at|during|on|in|after|following|before|ahead of)\s+)?"
                     r"(?:(?:the|their|a|an|this|that|last|next)\s+)?", re.IGNORECASE)


def _attach(mod: Anchor, mentions: list[Mention], sentence: str, mods: list[Anchor],
            titles: re.Pattern[str]) -> Mention | None:
    """The mention a modifier belongs to, or None when it belongs to none."""
    for mention in mentions:
        if mention.start <= mod.start and mod.end <= mention.end:
            return mention
    prev = next((m for m in reversed(mentions) if m.end <= mod.start), None)
    nxt = next((m for m in mentions if m.start >= mod.end), None)
    gap_prev = _blank(sentence[prev.end:mod.start], prev.end, mods, titles) if prev else None
    gap_next = _blank(sentence[mod.end:nxt.start], mod.end, mods, titles) if nxt else None

    def clean(gap: str | None, limit: int, commas: bool = False) -> bool:
        if gap is None or len(gap) > limit or re.search(r"[;:()\"]| but | while ", gap):
            return False
        return commas or "," not in gap

    if mod.kind == "time":
        if prev is not None and prev.time is None and gap_prev is not None \
                and _TIME_CONNECTOR.match(gap_prev) and clean(gap_prev.lstrip(","), 60):
            return prev
        if nxt is not None and nxt.time is None and clean(gap_next, 40):
            return nxt
        return None
    if mod.kind == "person":
        # "At their summit in Singapore on 14 November 2018, Abe and Putin agreed ...": the
        # subject after an opening phrase that is a meeting took part in it.
        if prev is not None and gap_prev is not None and _SUBJECT_GAP.fullmatch(gap_prev) \
                and prev is mentions[0] and _OPENER.fullmatch(sentence[:prev.start]):
            return prev
        appositive = gap_next is not None and gap_next.startswith(",") \
            and gap_next.rstrip().endswith(",")
        if nxt is not None and (clean(gap_next, 40) or (appositive and clean(gap_next, 60, True))):
            return nxt
        if prev is not None and clean(gap_prev, 60):
            return prev
        return None
    limit = 25 if mod.kind == "bilateral" else 30
    if nxt is not None and clean(gap_next, limit):
        return nxt
    if prev is not None and clean(gap_prev, limit + 10):
        return prev
    return None


def _add_mod(mention: Mention, mod: Anchor) -> None:
    if mod.kind == "time":
        mention.time = mod.value  # type: ignore[assignment]
        mention.core.append(mod)
    elif mod.kind == "person":
        subject: Subject = mod.value  # type: ignore[assignment]
        mention.person_anchors.append(mod)
        if subject not in mention.persons:
            mention.persons.append(subject)
        if not (0 <= mention.start - mod.end <= 15):
            return
    elif mod.kind == "tense":
        word = str(mod.value)
        mention.direction = "past" if word in _PAST_WORDS else "future"
        mention.recent = mention.recent or word in _RECENT_WORDS
        mention.core.append(mod)
    elif mod.kind == "bilateral":
        mention.bilateral = True
        if not (0 <= mention.start - mod.end <= 15):
            return
    mention.start, mention.end = min(mention.start, mod.start), max(mention.end, mod.end)


def _finish(mention: Mention) -> None:
    """Tidy the evidence span: take in a leading article or possessive determiner."""
    before = mention.sentence[:mention.start]
    lead = re.search(r"\b(?:the|their|a|an|his|her)\s+$", before, re.IGNORECASE)
    if lead:
        mention.start = lead.start()
    if mention.visitor and mention.visitor not in mention.persons:
        mention.persons.insert(0, mention.visitor)
    if mention.visit and mention.visitor is None:
        # "Naryshkin, chairman of the State Duma, visited Japan": the one person named before
        # the visit is the visitor.
        visit_start = min(a.start for a in mention.core if a.kind == "visit")
        named_before = {a.value for a in mention.person_anchors if a.end <= visit_start}
        if len(named_before) == 1:
            mention.visitor = named_before.pop()  # type: ignore[assignment]
    visitor_anchors = [a for a in mention.person_anchors
                       if a.value == mention.visitor and a.end <= mention.start]
    if visitor_anchors and mention.start - visitor_anchors[-1].start <= 60:
        # Name the visitor in the evidence: "Sergey Naryshkin, ..., visited Japan last month".
        mention.start = visitor_anchors[-1].start


def participant_keys(names: Iterable[str]) -> set[str]:
    """Surname keys of participants, for matching people named in a text."""
    return {canonical_person_key(n).split()[-1] for n in names if n.strip()}

"""Regular-expression pieces for person names, roles and speech verbs (shared by the extractor and
the passage-voice check)."""

from __future__ import annotations

import functools
import re

from knowledge.scope import alternation, load_scope
from knowledge.text.dates import parse_printed_date, split_trailing_date

_UP = "A-ZÀ-ÖØ-ÞĀĒĪŌŪ"
_LO = "a-zß-öø-ÿāēīōū"
TOKEN = rf"[{_UP}][{_LO}]+(?:['’][{_LO}]+)?(?:-[{_UP}{_LO}][{_LO}]+)?"
_PARTICLE = r"(?:de|van|von|bin|al|der|la|le|da|di|du|del)"
# Two to four capitalised words on one line, optionally with a middle initial or a particle.
NAME = rf"(?<![\w’'-]){TOKEN}(?:[ \t]+(?:[{_UP}]\.[ \t]+|{_PARTICLE}[ \t]+)?{TOKEN}){{1,3}}(?![\w-])"

SPEECH_VERB = (r"(?:told|tells|said|says|noted|notes|added|adds|concluded|concludes|stressed|"
               r"stresses|argued|argues|explained|explains|believes|believed|pointed out|points out|"
               r"emphasi[sz]ed|emphasi[sz]es|observed|observes|remarked|warned|warns|suggested|"
               r"suggests|commented|comments|thinks|continued|recalled|insisted)")

# Capitalised words that are never part of a person's name, whatever the topic; the scope adds
# its own (the parties' names, capitals, news agencies).
_GENERIC_NON_NAME_WORDS = frozenset("""
the a an and of in on at for to by with see also read from this that these those his her their
its our president prime minister foreign defence defense chairman chairwoman chair professor
university institute foundation club society department council forum centre center policy
research state director head government ministry embassy committee party discussion east eastern
western northern southern north south west january february march april may june july august
september october november december monday tuesday wednesday thursday friday saturday sunday
reading time photo featured image comments expert experts opinions views related more share
print email article news analysis dialogue summit meeting join support quality copyright mr mrs
ms dr prof sir excellency former then late senior fellow editor program programme studies
international relations affairs world security diplomatic economic economy trade fund bank
agency press media sea ocean national federation republic
""".split())


@functools.cache
def non_name_words() -> frozenset[str]:
    """Lower-case words that are never part of a person's name: generic ones and the scope's."""
    return _GENERIC_NON_NAME_WORDS | load_scope().non_name_words

TITLE_WORDS = (
    "professor", "fellow", "director", "chairman", "chairwoman", "chair", "president", "head",
    "researcher", "research", "lecturer", "editor", "analyst", "dean", "scholar", "ambassador",
    "adviser", "advisor", "founder", "member", "expert", "chief", "deputy", "vice", "associate",
    "phd", "ph.d", "candidate", "doctor", "secretary", "manager", "coordinator", "officer",
    "executive", "partner", "consultant", "journalist", "correspondent", "columnist", "economist",
    "historian", "specialist", "rector", "principal", "lead", "leader",
)
# Words of bylines that sign for no one in particular ("The Editors", "Staff writer").
_BYLINE_NOT_NAMES = frozenset("editors staff team desk writer writers correspondents contributor "
                              "contributors guest author authors admin administrator anonymous "
                              "unknown newsroom".split())


def names_someone(name: str) -> bool:
    """Whether a metadata author is a person's name, not a title or an institution's words
    alone: a byline "By Dmitry Streltsov, Professor at MGIMO-University" reaches us from the
    page's metadata as the authors "Dmitry Streltsov" and "Professor"."""
    words = [w.strip(".,'’()").lower() for w in name.replace("-", " ").split()]
    words = [w for w in words if w]
    never = _never_a_name()
    return bool(words) and not all(w in never for w in words)


@functools.cache
def _never_a_name() -> frozenset[str]:
    """Words no metadata author is made of alone (built once: ingestion asks per author)."""
    return non_name_words() | frozenset(TITLE_WORDS) | _BYLINE_NOT_NAMES


# An office that makes its holder a subject of the commentary when it stands before a name
# without an organisation in front of it ("Russian President Putin", "Prime Minister Abe"), as
# opposed to "Tokyo Foundation President Masahiro Akiyama".
GOV_OFFICE = (r"(?:President|Prime Minister|Premier|Foreign Minister|Defen[cs]e Minister|"
              r"Minister(?: of [A-Z][\w ]+)?|Chancellor|Secretary of State|Senator|Governor|"
              r"Chief Cabinet Secretary|Emperor|King|Queen|Speaker)")
# Nationalities of the wider world; the scope adds its parties', outside parties' and others'.
_WORLD_DEMONYMS = ("American", "US", "U.S.", "British", "French", "German", "Indian")


def _nationality() -> str:
    """A nationality or a time word that may stand before an office ("Chinese", "former")."""
    scope = load_scope()
    demonyms = alternation((*scope.demonyms, *scope.other_demonyms, *_WORLD_DEMONYMS))
    return rf"(?:{demonyms}|then|former|late|the)"


@functools.cache
def gov_before_name() -> re.Pattern[str]:
    """An office just before a name, not preceded by an organisation ("Russian President ")."""
    return re.compile(
        rf"(?:^|[^\w\s]\s*|\b[a-z]\w*\s+|\b{_nationality()}\s+){GOV_OFFICE}\s+$")


@functools.cache
def gov_role() -> re.Pattern[str]:
    """A role that is a government office ("Foreign Minister of Japan", "State Duma deputy")."""
    scope = load_scope()
    countries = alternation(scope.country_names)
    of_country = rf"\s+of\s+(?:{countries}|[A-Z][a-z]+)" if countries else r"\s+of\s+[A-Z][a-z]+"
    president_of = rf"|President of (?:{countries})" if countries else ""
    government = "".join(f"|{re.escape(t)}" for t in scope.government_terms)
    return re.compile(
        rf"^(?:(?:the|a|an|then|former|current|late)\s+)*(?:{_nationality()}\s+)?{GOV_OFFICE}"
        rf"(?:{of_country})?$|Prime Minister of{government}{president_of}|Foreign Minister|"
        r"Defen[cs]e Minister")


_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")


def normalize_spaces(text: str) -> str:
    """Turn non-breaking and other odd spaces (common in copied web pages) into plain ones."""
    return _SPACES.sub(" ", text)


def clean_name(candidate: str) -> str | None:
    """Trim leading title words off a capitalised run and return it if it looks like a name."""
    tokens = candidate.split()
    stop = non_name_words()
    while tokens and tokens[0].lower().strip(".") in stop:
        tokens.pop(0)
    if not 2 <= len(tokens) <= 4:
        return None
    if any(t.lower().strip(".’'") in stop or re.search(r"['’]s$", t) for t in tokens):
        return None
    if not re.fullmatch(NAME, " ".join(tokens)):
        return None
    return " ".join(tokens)


def is_name_line(line: str) -> bool:
    """True when a whole (stripped) line is only a person's name, as under a teaser's headline."""
    return clean_name(line) == line


def clean_role(role: str | None) -> str | None:
    """Collapse whitespace and trim articles and trailing punctuation off a role phrase; None
    for a date (a byline's publication date is no role)."""
    if role is None:
        return None
    role = re.sub(r"\s+", " ", role).strip(" ,;:.-–—")
    role = re.sub(r"^(?:a|an)\s+", "", role)
    # A date where a byline's role would be ("By Kenji Watanabe, 10 February 2020") is its
    # publication date, not a role; so is a date ending it ("Senior Fellow at X. March 20,
    # 2021").
    if parse_printed_date(role) is not None:
        return None
    role = split_trailing_date(role)[0].strip(" ,;:.-–—")
    return role or None


def has_title_word(text: str) -> bool:
    """Whether a phrase names a position ("Professor of ...", "Senior Fellow at ...")."""
    words = re.findall(r"[a-z.]+", text.lower())
    return any(w.strip(".") in TITLE_WORDS or w in TITLE_WORDS for w in words)

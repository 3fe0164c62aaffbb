"""Regular-expression pieces for person names, roles and speech verbs (shared by the extractor and
the passage-voice check)."""

from __future__ import annotations

import re

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

# Capitalised words that are never part of a person's name in these texts.
NON_NAME_WORDS = frozenset("""
the a an and of in on at for to by with see also read from this that these those his her their its our
president prime minister foreign defence defense chairman chairwoman chair professor
university institute foundation club society department council forum centre center policy
research state duma director head government ministry embassy committee party russian
japanese russia japan tokyo moscow valdai discussion east asia asian pacific far eastern
western northern southern north south west kremlin white house united states american europe
european g7 g20 apec january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday reading time photo
featured image comments expert experts opinions views related read more share print email
article news analysis dialogue sanctions factor summit meeting peace treaty islands kuril
kurils southern northern territories join support quality copyright views mr mrs ms dr prof
sir his excellency former then late senior fellow editor program programme studies
international relations affairs world security diplomatic economic economy trade fund bank
agency press media reuters tass kyodo nikkei mainland sea ocean island ukraine crimea china
korea korean chinese ukrainian soviet ussr west peninsula national federation republic
""".split())

TITLE_WORDS = (
    "professor", "fellow", "director", "chairman", "chairwoman", "chair", "president", "head",
    "researcher", "research", "lecturer", "editor", "analyst", "dean", "scholar", "ambassador",
    "adviser", "advisor", "founder", "member", "expert", "chief", "deputy", "vice", "associate",
    "phd", "ph.d", "candidate", "doctor", "secretary", "manager", "coordinator", "officer",
    "executive", "partner", "consultant", "journalist", "correspondent", "columnist", "economist",
    "historian", "specialist", "rector", "principal", "lead", "leader",
)

# An office that makes its holder a subject of the commentary when it stands before a name
# without an organisation in front of it ("Russian President Putin", "Prime Minister Abe"), as
# opposed to "Tokyo Foundation President Masahiro Akiyama".
GOV_OFFICE = (r"(?:President|Prime Minister|Premier|Foreign Minister|Defen[cs]e Minister|"
              r"Minister(?: of [A-Z][\w ]+)?|Chancellor|Secretary of State|Senator|Governor|"
              r"Chief Cabinet Secretary|Emperor|King|Queen|Speaker)")
_NATIONALITY = r"(?:Russian|Japanese|US|U\.S\.|American|Chinese|Ukrainian|Korean|South Korean|" \
               r"North Korean|Soviet|British|French|German|Indian|Peruvian|then|former|late|the)"
GOV_BEFORE_NAME = re.compile(
    rf"(?:^|[^\w\s]\s*|\b[a-z]\w*\s+|\b{_NATIONALITY}\s+){GOV_OFFICE}\s+$")
GOV_ROLE = re.compile(
    rf"^(?:(?:the|a|an|then|former|current|late)\s+)*(?:{_NATIONALITY}\s+)?{GOV_OFFICE}"
    r"(?:\s+of\s+(?:Russia|Japan|the Russian Federation|the United States|the USSR|China|"
    r"Ukraine|[A-Z][a-z]+))?$|Prime Minister of|State Duma|President of (?:Russia|the Russian "
    r"Federation|the United States|Japan|the USSR|China|Ukraine)|Foreign Minister|Defen[cs]e Minister")


_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")


def normalize_spaces(text: str) -> str:
    """Turn non-breaking and other odd spaces (common in copied web pages) into plain ones."""
    return _SPACES.sub(" ", text)


def clean_name(candidate: str) -> str | None:
    """Trim leading title words off a capitalised run and return it if it looks like a name."""
    tokens = candidate.split()
    while tokens and tokens[0].lower().strip(".") in NON_NAME_WORDS:
        tokens.pop(0)
    if not 2 <= len(tokens) <= 4:
        return None
    if any(t.lower().strip(".’'") in NON_NAME_WORDS or re.search(r"['’]s$", t) for t in tokens):
        return None
    if not re.fullmatch(NAME, " ".join(tokens)):
        return None
    return " ".join(tokens)


def clean_role(role: str | None) -> str | None:
    """Collapse whitespace and trim articles and trailing punctuation off a role phrase."""
    if role is None:
        return None
    role = re.sub(r"\s+", " ", role).strip(" ,;:.-–—")
    role = re.sub(r"^(?:a|an)\s+", "", role)
    return role or None


def has_title_word(text: str) -> bool:
    """Whether a phrase names a position ("Professor of ...", "Senior Fellow at ...")."""
    words = re.findall(r"[a-z.]+", text.lower())
    return any(w.strip(".") in TITLE_WORDS or w in TITLE_WORDS for w in words)

"""Which passages carry an expert's own words."""

from __future__ import annotations

from knowledge.people import PersonMention, extract_people, passage_voice
from tests.knowledge.meetings.founding_texts import FoundingText


def _expert(text: FoundingText) -> PersonMention:
    return extract_people(text.text, title=text.title)[0]


def test_interview_paragraphs_quoting_akiyama(founding: dict[str, FoundingText]) -> None:
    """000: every paragraph with "Akiyama told/noted/added/said/concluded" is his; the footer is not."""
    text = founding["000"]
    akiyama = _expert(text)
    assert akiyama.voice == "attributed"
    voiced = [passage_voice(p, akiyama) for p in text.paragraphs]
    assert voiced == [False, True, True, True, True, True, True, True, False]


def test_pronoun_quote_in_an_interview() -> None:
    """In an interview, a quotation closed by "he told" is the interviewee's."""
    akiyama = PersonMention("Masahiro Akiyama", "interviewed", None, "", voice="attributed")
    assert passage_voice("“It could trigger a solution,” he told", akiyama)
    quoted = PersonMention("Masahiro Akiyama", "quoted", None, "", voice="attributed")
    assert not passage_voice("“It could trigger a solution,” he told", quoted)


def test_comment_piece_is_the_experts_throughout(founding: dict[str, FoundingText]) -> None:
    """004: Streltsov's comments fill the body; the intro, photo credit and footnotes are not his."""
    text = founding["004"]
    streltsov = _expert(text)
    assert streltsov.voice == "whole"

    def voiced(start: str) -> bool:
        return passage_voice(next(p for p in text.paragraphs if p.startswith(start)), streltsov)

    assert voiced("Above all, one should view")
    assert voiced("It is the 17th meeting")
    assert voiced("My overall assessment")
    assert not voiced("The “Rethinking Russia” think tank presents")
    assert not voiced("Photo:")
    assert not voiced("[3] See Streltsov’s comments")


def test_authors_article_is_theirs(founding: dict[str, FoundingText]) -> None:
    """003: every body paragraph is Togo's; his bio line and the site footer are not his words."""
    text = founding["003"]
    togo = _expert(text)
    body = [p for p in text.paragraphs if p.startswith(("The ‘upturn’ began", "Let us stay sober",
                                                        "Fourth, regarding"))]
    assert len(body) == 3 and all(passage_voice(p, togo) for p in body)
    assert not passage_voice(next(p for p in text.paragraphs if p.startswith("Kazuhiko Togo is")),
                             togo)
    assert not passage_voice("Comments are closed.", togo)


def test_teaser_in_an_authors_passage_is_not_theirs(founding: dict[str, FoundingText]) -> None:
    """A passage that is only a teaser for another article does not carry the author's words."""
    togo = _expert(founding["003"])
    teaser = ("Russia-Japan Dialogue: The Sanctions Factor\nIvan Timofeev\nThe invigoration of "
              "dialogue between Moscow and Tokyo has again raised the question.\nExpert Opinions")
    assert not passage_voice(teaser, togo)

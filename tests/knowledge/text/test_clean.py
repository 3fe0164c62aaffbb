"""Cleaning page furniture out of copied web pages."""

from __future__ import annotations

from knowledge.corpus import FOUNDING_DIR
from knowledge.text.clean import (
    clean_text,
    content_fingerprint,
    fold,
    folded_words,
    is_furniture,
    markdown_to_text,
)


def _seed(stem: str) -> str:
    return (FOUNDING_DIR / f"{stem}.txt").read_text(encoding="utf-8")


def test_share_buttons_and_comment_lines_are_dropped() -> None:
    """Share widgets, comment-box lines and copyright lines never reach the index."""
    text = _seed("003_8a6cdb0b4f70d1eb")
    cleaned = clean_text(text, title="Can Japan and Russia achieve a genuine rapprochement?",
                         publisher="East Asia Forum")
    for furniture in ("• A", "Comments are closed", "Copyright ©2024", "Support Quality Analysis",
                      "Reading Time", "Article printed from", "First Peoples"):
        assert furniture not in cleaned
    assert "Kazuhiko Togo is a Professor of International Politics" in cleaned
    assert "draw, par or hikiwake" in cleaned


def test_teaser_for_another_article_is_dropped() -> None:
    """A teaser block (headline, author, blurb, section label) is not part of the article."""
    cleaned = clean_text(_seed("002_b22a9167bf453d75"))
    assert "Ivan Timofeev" not in cleaned
    assert "The Sanctions Factor" not in cleaned
    assert "Expert Opinions" not in cleaned
    assert "This option looks like a step from Tokyo" in cleaned


def test_disclaimers_author_cards_and_featured_content_are_dropped() -> None:
    """Publisher disclaimers, author cards and 'Featured Content' are furniture."""
    cleaned = clean_text(_seed("001_e081191c5fe33cf7"),
                         publisher="The Tokyo Foundation for Policy Research")
    assert "Featured Content" not in cleaned
    assert "Reprinted with permission" not in cleaned
    assert "• Masahiro Akiyama" not in cleaned
    assert "The Tokyo Foundation for Policy Research" not in cleaned.split("\n\n")[0]
    cleaned0 = clean_text(_seed("000_6bcf33b55e024291"))
    assert "Views expressed are of individual Members" not in cleaned0


def test_footnote_marks_and_photo_credits_are_removed_but_caption_kept() -> None:
    """Inline [1] marks and '(Photo: ...)' credits go; the caption's facts stay."""
    cleaned = clean_text(_seed("004_49e94f6d0c3cdc58"))
    assert "[1]" not in cleaned and "Photo: ©" not in cleaned
    assert "Korean Peninsula." in cleaned
    cleaned3 = clean_text(_seed("003_8a6cdb0b4f70d1eb"))
    assert "meeting in Sochi, 6 May 2016" in cleaned3
    assert "Reuters/Sergei Guneev" not in cleaned3


def test_body_lines_are_not_mistaken_for_furniture() -> None:
    """Ordinary sentences, even short ones, are kept."""
    assert not is_furniture("Let us stay sober at this point.")
    assert not is_furniture("My overall assessment of the outcomes is optimistic.")
    assert is_furniture("Featured Content")
    assert is_furniture("Comments are closed.")


def test_content_fingerprint_ignores_case_spacing_and_punctuation() -> None:
    """The same words in a different layout are the same content; other words are not."""
    a = content_fingerprint("Hello,   World!\n\nSecond line.")
    assert a == content_fingerprint("hello world second LINE")
    assert a != content_fingerprint("hello world third line")


def test_markdown_is_flattened() -> None:
    """Markdown headings, links and emphasis become plain text."""
    text = markdown_to_text("# Title\n\nSee [the report](http://x.example) and **bold** _it_.")
    assert text == "Title\n\nSee the report and bold it."


def test_echo_repeats_printable_text_only() -> None:
    """A name or query repeated in a message loses terminal escapes, other control and
    direction-override characters and lone surrogates, and stays one short line."""
    from knowledge.text.clean import ECHO_LIMIT, echo

    assert echo("zz\x1b[2J\nFAKE LINE") == "zz[2J FAKE LINE"
    assert echo("abc\u202edef\u200b\udcff") == "abcdef"
    assert len(echo("x" * 3000)) <= ECHO_LIMIT


def test_fold_drops_case_and_accents() -> None:
    """Names compare folded: "Süddeutsche" meets "sudd", "Économie" "economie"; words split."""
    assert fold("Süddeutsche Zeitung") == "suddeutsche zeitung"
    assert fold("ÉCONOMIE") == "economie"
    assert folded_words("Le Monde  diplomatique, Paris") == ["le", "monde", "diplomatique",
                                                             "paris"]

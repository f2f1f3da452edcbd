"""Plain sentences from tool and catalogue text."""

from __future__ import annotations

from vulntune.datasets.sentences import clean_text, pick_sentences, sentences


def test_markup_links_urls_and_entities_go() -> None:
    text = (
        "## Details\n**Unsafe** `yaml.load` call, see [the docs](https://example.org/yaml) "
        "<b>now</b> &amp; <https://example.org>.\n- listed"
    )
    assert clean_text(text) == "Details Unsafe yaml.load call, see the docs now &. listed"
    assert clean_text(None) == "" and clean_text("```\ncode\n```") == ""


def test_a_dot_that_starts_a_name_is_kept() -> None:
    assert clean_text("Secret committed in .github/ci.yml") == "Secret committed in .github/ci.yml"


def test_sentences_drop_boilerplate_and_on_request_advice() -> None:
    text = (
        "The query is built from user input. Use parameterised queries instead. "
        "See more at https://example.org. Version 2.6.1 is affected, e.g. by this"
    )
    assert sentences(text) == [
        "The query is built from user input.",
        "Use parameterised queries instead.",
        "Version 2.6.1 is affected, e.g. by this.",
    ]
    assert sentences(text, advice=False) == [
        "The query is built from user input.",
        "Version 2.6.1 is affected, e.g. by this.",
    ]


def test_pick_sentences_skips_repeats_and_keeps_the_budget() -> None:
    sources = [
        ["A file path is built from request data."],
        ["A file path is built from request data.", "It escapes the folder."],
    ]
    assert pick_sentences(sources, limit=2, max_chars=200) == [
        "A file path is built from request data.",
        "It escapes the folder.",
    ]
    assert pick_sentences(sources, limit=2, max_chars=30) == ["It escapes the folder."]

"""The Pandoc citation parser: what a writer types is what gets cited, and nothing else.

Text written for Pandoc, Quarto or Zotero must paste in unchanged, e-mail addresses and
links must stay what they are, and code must never be parsed. Line numbers are the ones
an editor shows (1-based), because the unknown-key message sends the writer there.
"""

from __future__ import annotations

import pytest

from references.citations import CitedItem, cited_keys, find_citations, mask_code


def only_cluster(text: str):
    clusters = find_citations(text)
    assert len(clusters) == 1, clusters
    return clusters[0]


def only_item(text: str) -> CitedItem:
    cluster = only_cluster(text)
    assert len(cluster.items) == 1, cluster.items
    return cluster.items[0]


def keys_of(text: str) -> list[str]:
    return [item.key for cluster in find_citations(text) for item in cluster.items]


# --- The citation forms -------------------------------------------------------------------


def test_bracketed_single_citation():
    text = "Intimacy matters [@parker2019]."
    cluster = only_cluster(text)
    assert cluster.items == (CitedItem(key="parker2019"),)
    assert not cluster.narrative
    assert text[cluster.start : cluster.end] == "[@parker2019]"
    assert cluster.line == 1


def test_page_locator_is_split_from_the_key():
    item = only_item("Quoted [@parker2019, p. 550].")
    assert item.key == "parker2019"
    assert item.label == "page"
    assert item.locator == "550"
    assert item.suffix == ""
    assert item.prefix == ""


def test_page_range_locator():
    item = only_item("[@parker2019, pp. 540-552]")
    assert (item.label, item.locator) == ("page", "540-552")


def test_bare_number_locator_is_a_page():
    item = only_item("[@parker2019, 33]")
    assert (item.label, item.locator) == ("page", "33")


def test_several_sources_in_one_bracket_are_one_cluster_in_written_order():
    cluster = only_cluster("Both agree [@parker2019; @rauer2015].")
    assert [item.key for item in cluster.items] == ["parker2019", "rauer2015"]
    assert not cluster.narrative


def test_locator_on_one_of_several_sources():
    cluster = only_cluster("[@parker2019, p. 5; @rauer2015]")
    first, second = cluster.items
    assert (first.key, first.locator) == ("parker2019", "5")
    assert (second.key, second.locator) == ("rauer2015", "")


def test_minus_suppresses_the_author():
    item = only_item("Parker and colleagues [-@parker2019] found")
    assert item.key == "parker2019"
    assert item.suppress_author is True


def test_suppress_author_on_one_item_of_a_cluster():
    first, second = only_cluster("[@parker2019; -@rauer2015]").items
    assert not first.suppress_author
    assert second.suppress_author


def test_plain_citation_does_not_suppress_the_author():
    assert only_item("[@parker2019]").suppress_author is False


def test_narrative_citation_in_running_text():
    text = "As @parker2019 showed, closeness matters."
    cluster = only_cluster(text)
    assert cluster.narrative is True
    assert cluster.items == (CitedItem(key="parker2019"),)
    assert text[cluster.start : cluster.end] == "@parker2019"


def test_narrative_citation_at_start_of_text_and_after_opening_marks():
    assert keys_of("@parker2019 found this.") == ["parker2019"]
    assert keys_of("(@parker2019 agrees)") == ["parker2019"]
    assert keys_of("“@parker2019” is cited") == ["parker2019"]
    assert keys_of("Line one.\n@rauer2015 found that.") == ["rauer2015"]


def test_prefix_locator_and_suffix():
    item = only_item("[see @parker2019, pp. 33-35, emphasis added]")
    assert item.prefix == "see"
    assert item.key == "parker2019"
    assert (item.label, item.locator) == ("page", "33-35")
    assert item.suffix == "emphasis added"


def test_prefix_on_each_item_of_a_cluster():
    first, second = only_cluster("[see @parker2019, p. 1; also @rauer2015, chap. 2]").items
    assert (first.prefix, first.key, first.locator) == ("see", "parker2019", "1")
    assert (second.prefix, second.key, second.label, second.locator) == (
        "also",
        "rauer2015",
        "chapter",
        "2",
    )


def test_suffix_without_locator():
    item = only_item("[@parker2019, emphasis added]")
    assert item.locator == ""
    assert item.suffix == "emphasis added"


@pytest.mark.parametrize(
    ("written", "label", "locator"),
    [
        ("chap. 3", "chapter", "3"),
        ("ch. 3", "chapter", "3"),
        ("chapter 3", "chapter", "3"),
        ("sec. 4", "section", "4"),
        ("§ 4", "section", "4"),
        ("fig. 2", "figure", "2"),
        ("para. 7", "paragraph", "7"),
        ("¶ 7", "paragraph", "7"),
        ("vol. 2", "volume", "2"),
        ("p. 550", "page", "550"),
        ("p.550", "page", "550"),
        ("pp. 33–35", "page", "33–35"),
    ],
)
def test_locator_labels(written, label, locator):
    item = only_item(f"[@parker2019, {written}]")
    assert (item.label, item.locator, item.suffix) == (label, locator, "")


def test_dotted_section_locator():
    item = only_item("[@parker2019, sec. 2.1]")
    assert (item.label, item.locator, item.suffix) == ("section", "2.1", "")


@pytest.mark.parametrize("key", ["baez/article", "kant:kpv", "doe-2020", "who_2021", "a.b.c"])
def test_keys_with_internal_punctuation(key):
    assert only_item(f"[@{key}]").key == key
    assert keys_of(f"As @{key} argues, it is so.") == [key]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("As shown by @smith2019.", "smith2019"),
        ("Per @smith2019, it works.", "smith2019"),
        ("Ask @smith2019; then decide.", "smith2019"),
        ("Did @smith2019?", "smith2019"),
        ("See @kant:kpv.", "kant:kpv"),
        ("See @baez/article, too.", "baez/article"),
        ("@smith2019's cohort", "smith2019"),
        ("[@smith2019.]", "smith2019"),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_key(text, key):
    assert keys_of(text) == [key]


# --- What is not a citation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Write to me@example.com for details.",
        "Write to [me@example.com].",
        "Write to <me@example.com>.",
        "Contact [the clinic: info@clinic.example] today.",
        "[Mail us](mailto:info@clinic.example)",
        "See https://example.org/@someone for the profile.",
        "A handle like user@host is not a citation.",
    ],
)
def test_email_addresses_and_urls_are_never_citations(text):
    assert find_citations(text) == []


def test_link_with_citation_like_text_is_a_link():
    assert find_citations("Read [@x](http://y) first.") == []
    assert find_citations("Read [@x][ref] first.\n\n[ref]: http://y") == []


def test_email_next_to_a_real_citation_leaves_only_the_citation():
    assert keys_of("Write to me@example.com; the data [@parker2019] agree.") == ["parker2019"]


def test_citation_followed_by_a_colon_mid_sentence():
    assert keys_of("Two studies agree [@parker2019; @rauer2015]: closeness helps.") == [
        "parker2019",
        "rauer2015",
    ]


# --- Code is never parsed -----------------------------------------------------------------


def test_inline_code_is_not_parsed():
    assert keys_of("Type `[@parker2019]` to cite, or `@rauer2015`; see [@real].") == ["real"]


def test_inline_code_with_double_backticks_is_not_parsed():
    assert keys_of("Write ``a `[@x]` b`` and [@real].") == ["real"]


@pytest.mark.parametrize(
    ("fence", "closing"), [("```", "```"), ("~~~", "~~~"), ("````", "````"), ("```python", "```")]
)
def test_fenced_code_block_is_not_parsed(fence, closing):
    text = f"Before [@a].\n\n{fence}\n[@inside] and @narrative\n{closing}\n\nAfter [@b].\n"
    assert keys_of(text) == ["a", "b"]


def test_tilde_fence_is_not_closed_by_backticks():
    text = "~~~\n```\n[@inside]\n```\n~~~\n\nAfter [@b]."
    assert keys_of(text) == ["b"]


def test_longer_fence_contains_shorter_fence():
    text = "````\n```\n[@inside]\n```\n````\n\nAfter [@b]."
    assert keys_of(text) == ["b"]


def test_indented_code_block_is_not_parsed():
    text = "Intro [@a].\n\n    [@inside] code\n    more @narrative code\n\nAfter [@b]."
    assert keys_of(text) == ["a", "b"]


def test_indented_code_block_at_start_of_document_is_not_parsed():
    assert keys_of("    [@inside]\n\nText [@b].") == ["b"]


def test_mask_code_blanks_code_and_keeps_positions():
    text = "A `[@x]` b\n\n```\n[@y]\n```\n\nC [@z]"
    masked = mask_code(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert "@x" not in masked
    assert "@y" not in masked
    assert masked.endswith("C [@z]")


def test_citation_in_list_item_continuation_paragraph():
    text = "- First point.\n\n    Its second paragraph [@parker2019].\n"
    assert keys_of(text) == ["parker2019"]


def test_citation_in_nested_list_item():
    text = "- Outer item.\n\n    - Inner item [@parker2019].\n"
    assert keys_of(text) == ["parker2019"]


def test_citation_after_fenced_code_with_crlf_line_endings():
    text = "```\r\ncode\r\n```\r\n\r\nText [@parker2019].\r\n"
    assert keys_of(text) == ["parker2019"]


def test_indented_code_with_crlf_line_endings_is_not_parsed():
    text = "Intro.\r\n\r\n    [@inside]\r\n\r\nText [@b].\r\n"
    assert keys_of(text) == ["b"]


# --- Line numbers -------------------------------------------------------------------------


def test_line_numbers_are_one_based_for_each_cluster():
    text = (
        "# Title\n"  # 1
        "\n"  # 2
        "First [@a] and [@b; @c].\n"  # 3
        "Narrative @d here.\n"  # 4
        "\n"  # 5
        "```\n"  # 6
        "[@code]\n"  # 7
        "```\n"  # 8
        "\n"  # 9
        "Last [see @e, p. 3].\n"  # 10
    )
    found = [(tuple(i.key for i in c.items), c.line) for c in find_citations(text)]
    assert found == [
        (("a",), 3),
        (("b", "c"), 3),
        (("d",), 4),
        (("e",), 10),
    ]


def test_first_line_is_line_one():
    assert only_cluster("[@a] opens the text.").line == 1


def test_clusters_come_in_document_order_narrative_and_bracketed_mixed():
    text = "@a then [@b] then @c then [@d]"
    clusters = find_citations(text)
    assert [c.items[0].key for c in clusters] == ["a", "b", "c", "d"]
    assert [c.narrative for c in clusters] == [True, False, True, False]
    assert [c.start for c in clusters] == sorted(c.start for c in clusters)


def test_cluster_span_covers_exactly_the_written_citation():
    text = "Text [see @a, p. 5] and @b."
    first, second = find_citations(text)
    assert text[first.start : first.end] == "[see @a, p. 5]"
    assert text[second.start : second.end] == "@b"


# --- cited_keys ---------------------------------------------------------------------------


def test_cited_keys_are_distinct_in_order_of_first_citation():
    text = "[@b] then [@a; @b] then @c and [@a, p. 4]. `[@code]`"
    assert cited_keys(text) == ["b", "a", "c"]


def test_cited_keys_of_text_without_citations():
    assert cited_keys("No citations here, just me@example.com.") == []

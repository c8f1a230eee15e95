"""`articles.diff`: what a physician sees changed in a resubmission, at word level, escaped."""

from __future__ import annotations

import re

import pytest

from articles.diff import diff_revisions, word_diff
from articles.models import Revision


def csl(key: str, **fields) -> dict:
    item = {
        "id": key,
        "type": "article-journal",
        "title": f"Emotional intimacy ({key})",
        "author": [{"family": "Parker", "given": "S. J."}],
        "issued": {"date-parts": [[2019]]},
        "container-title": "The Journal of Sex Research",
        "DOI": f"10.1000/{key}",
    }
    item.update(fields)
    return item


def revision(
    *, title="Title", summary="Summary.", body="Body text.", references=(), number=1
) -> Revision:
    """An unsaved revision: diffing only reads its content."""
    return Revision(
        number=number,
        title=title,
        summary=summary,
        body=body,
        references_csl=list(references),
    )


def strip_markup(html: str) -> str:
    return re.sub(r"</?(ins|del)>", "", html)


# --- word_diff ---------------------------------------------------------------------------


def test_replaced_word_is_deleted_then_inserted():
    html = word_diff("The cat sat on the mat.", "The dog sat on the mat.")
    assert html == "The <del>cat</del><ins>dog</ins> sat on the mat."


def test_insertion_at_word_level_keeps_the_rest_plain():
    html = word_diff("Therapy helps couples.", "Therapy often helps couples.")
    assert "<ins>often </ins>" in html or "<ins> often</ins>" in html
    assert "<del>" not in html
    assert strip_markup(html) == "Therapy often helps couples."


def test_deletion_at_word_level():
    html = word_diff("Therapy always helps couples.", "Therapy helps couples.")
    assert "<del>" in html and "always" in html
    assert "<ins>" not in html
    deleted = "".join(re.findall(r"<del>(.*?)</del>", html))
    assert deleted.strip() == "always"


def test_change_inside_a_word_marks_the_whole_word_not_characters():
    html = word_diff("Dosage is 10 mg daily.", "Dosage is 100 mg daily.")
    assert "<del>10</del><ins>100</ins>" in html


def test_identical_texts_have_no_markup():
    assert word_diff("Same text, same words.", "Same text, same words.") == (
        "Same text, same words."
    )


def test_everything_new_is_one_insertion():
    assert word_diff("", "hello world") == "<ins>hello world</ins>"


def test_script_in_new_text_is_escaped_inside_ins():
    html = word_diff("Safe text.", "Safe <script>alert(1)</script> text.")
    assert "<script>" not in html
    inserted = "".join(re.findall(r"<ins>(.*?)</ins>", html, re.S))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in inserted


def test_markup_in_removed_text_is_escaped_inside_del():
    html = word_diff('<img src=x onerror="alert(1)"> Old.', "Old.")
    assert "<img" not in html
    deleted = "".join(re.findall(r"<del>(.*?)</del>", html, re.S))
    assert "&lt;img" in deleted and "&quot;alert(1)&quot;" in deleted


def test_unchanged_text_is_escaped_too():
    html = word_diff("A & B <em>x</em>", "A & B <em>x</em> C")
    assert html.startswith("A &amp; B &lt;em&gt;x&lt;/em&gt;")
    assert "<em>" not in html


# --- diff_revisions ----------------------------------------------------------------------


def test_first_revision_is_all_new():
    new = revision(title="Intimacy", summary="Short.", body="Body.", references=[csl("a2019")])
    diff = diff_revisions(None, new)
    assert diff.base is None
    assert diff.title_html == "<ins>Intimacy</ins>"
    assert diff.body_html == "<ins>Body.</ins>"
    assert [(c.key, c.change) for c in diff.references] == [("a2019", "added")]
    assert not diff.unchanged


def test_unchanged_revision_is_reported_unchanged():
    refs = [csl("a2019")]
    base = revision(references=refs)
    new = revision(references=[dict(item) for item in refs], number=2)
    diff = diff_revisions(base, new)
    assert diff.unchanged
    assert diff.references == []


def test_title_summary_and_body_changes_are_each_diffed():
    base = revision(title="Old title", summary="Old summary.", body="Keep this. Drop that.")
    new = revision(title="New title", summary="Old summary.", body="Keep this. Add more.")
    diff = diff_revisions(base, new)
    assert diff.title_html == "<del>Old</del><ins>New</ins> title"
    assert diff.summary_html == "Old summary."
    assert "<del>" in diff.body_html and "<ins>" in diff.body_html
    assert not diff.unchanged


def test_reference_added_removed_and_changed_are_detected():
    base = revision(references=[csl("kept2019"), csl("gone2015"), csl("edited2020")])
    new = revision(
        references=[
            csl("kept2019"),
            csl("edited2020", title="Emotional intimacy, corrected title"),
            csl("fresh2021"),
        ],
        number=2,
    )
    diff = diff_revisions(base, new)
    changes = {c.key: c for c in diff.references}
    assert {key: c.change for key, c in changes.items()} == {
        "edited2020": "changed",
        "fresh2021": "added",
        "gone2015": "removed",
    }
    assert "kept2019" not in changes
    edited = changes["edited2020"].diff_html
    assert "<ins>" in edited and "corrected" in edited
    assert "<del>" in edited
    assert "<ins>" in changes["fresh2021"].diff_html
    assert "<del>" in changes["gone2015"].diff_html
    assert not diff.unchanged


def test_reference_change_in_authors_or_year_only_is_detected():
    base = revision(references=[csl("x2019")])
    new = revision(
        references=[
            csl(
                "x2019",
                author=[{"family": "Parker", "given": "S. J."}, {"family": "Lee", "given": "K."}],
                issued={"date-parts": [[2020]]},
            )
        ],
        number=2,
    )
    (change,) = diff_revisions(base, new).references
    assert change.change == "changed"
    assert "Lee" in change.diff_html
    assert "<ins>2020</ins>" in change.diff_html


def test_reference_fields_are_escaped_in_the_diff():
    base = revision(references=[])
    new = revision(references=[csl("evil", title="<script>alert(1)</script>")], number=2)
    (change,) = diff_revisions(base, new).references
    assert "<script>" not in change.diff_html
    assert "&lt;script&gt;" in change.diff_html


@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_script_in_revision_text_is_escaped(field):
    base = revision()
    new = revision(**{field: "Text <script>alert(1)</script>"}, number=2)
    diff = diff_revisions(base, new)
    html = getattr(diff, f"{field}_html")
    assert "<script>" not in diff.all_html
    inserted = "".join(re.findall(r"<ins>(.*?)</ins>", html, re.S))
    assert "&lt;script&gt;" in inserted


def test_a_reference_listed_with_et_al_reads_naturally_in_the_diff():
    from articles.diff import _reference_text

    text = _reference_text(
        {"id": "k", "author": [{"family": "Parker", "given": "S. J."}], "x-et-al": True}
    )
    assert text == "author: Parker, S. J.; et al."


def test_a_changed_end_of_a_date_range_and_a_changed_translator_show_in_the_diff():
    """A physician comparing revisions sees every part of a reference that changed."""
    base = revision(
        references=[
            csl(
                "knuth1984",
                issued={"date-parts": [[1984], [1986]]},
                translator=[{"family": "Doe", "given": "J."}],
            )
        ]
    )
    new = revision(
        references=[
            csl(
                "knuth1984",
                issued={"date-parts": [[1984], [1987]]},
                translator=[{"family": "Roe", "given": "R."}],
            )
        ],
        number=2,
    )
    (change,) = diff_revisions(base, new).references
    assert "issued: 1984/<del>1986</del><ins>1987</ins>" in change.diff_html
    assert "translator: <del>Doe</del><ins>Roe</ins>, <del>J</del><ins>R</ins>." in (
        change.diff_html
    )

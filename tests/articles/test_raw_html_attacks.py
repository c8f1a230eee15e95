"""Attacks on the raw-HTML handling of writer_attributes.lua, and what each renders to.

The filter rebuilds every tag it keeps from the attributes it reads, so a writer's id or
class would need a tag the filter reads differently from the browser. What it emitted
unchanged were tags that change how the rest of the page is parsed (`<title>`,
`<textarea>`, `<plaintext>`, `</body>`, an unclosed `<style>`...): the parser then read the
article's text after them as markup shown as text, or as a style sheet nh3 removes.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

import articles.pandoc as filter_module
from articles.rendering import ALLOWED_TAGS, render_article

AFTER = "\n\nSecond paragraph.\n\n## Dose\n\nTake one."


def render(body: str) -> str:
    return render_article(body=body, references={}).html


def plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(
    ("body", "text"),
    [
        # Unclosed: the browser (and nh3) read everything after as the element's content.
        ("Use x <style>b", "Use x b"),
        ("Use x <script>b", "Use x b"),
        ("<style>\nb", "b"),
        ("Use <STYLE>b", "Use b"),
        # RCDATA and raw-text elements: the markup after them was shown as text.
        ("Read <title>the label", "Read the label"),
        ("Read <textarea>the label", "Read the label"),
        ("Read <xmp>the label", "Read the label"),
        ("Read <plaintext>the label", "Read the label"),
        ("Read <noembed>the label", "Read the label"),
        ("Read <noframes>the label", "Read the label"),
        ("Read <iframe>the label", "Read the label"),
        ("Read <noscript>the label</noscript>", "Read the label"),
        # lxml ends the fragment at the end of the body: the rest of the article was lost.
        ("Read </body> the label", "Read the label"),
        ("<html><body>Read the label</body></html>", "Read the label"),
        # A template's content is not the page's: it was dropped.
        ("Read <template>the label</template>", "Read the label"),
        # Foreign content: a style sheet inside maths swallowed the rest.
        ("Read <math><mtext><style>the label</style></math>", "Read"),
        ("Read <math><mi>x</mi></math> the label", "Read x the label"),
    ],
)
def test_tags_that_change_how_the_rest_is_parsed_lose_no_text(body, text):
    html = render(body + AFTER)
    assert plain(html) == f"{text} Second paragraph. Dose Take one."
    assert "&lt;" not in html


@pytest.mark.parametrize(
    ("body", "html"),
    [
        # A style sheet or script written whole is removed with its content.
        ("x <style>b{c:d}</style> y", "<p>x  y</p>"),
        ("x <script>alert(1)</script> y", "x\n\n<p>y</p>"),
        ("<style>\nb{c:d}\n</style>\n\ny", "<p>y</p>"),
    ],
)
def test_whole_style_sheets_and_scripts_are_removed_with_their_content(body, html):
    assert render(body) == html


@pytest.mark.parametrize(
    ("body", "html"),
    [
        # No whitespace, slashes, form feeds, newlines between attributes.
        ('<a href="x"id="ref-y">t</a>', '<p><a href="x" rel="noopener noreferrer">t</a></p>'),
        ("<a\x0cid=ref-a href=x>t</a>", '<p><a href="x" rel="noopener noreferrer">t</a></p>'),
        ("<a title=x\n id=ref-a\n>t</a>", '<p><a title="x" rel="noopener noreferrer">t</a></p>'),
        ("text <a/id=ref-a/href=x>t</a>", '<p>text <a rel="noopener noreferrer">t</a></p>'),
        # A `/` in an unquoted value belongs to it, as the browser reads it.
        ("<img/src=/media/x.png/onerror=y>", '<p><img src="/media/x.png/onerror=y"></p>'),
        (
            "<a href=x/id=ref-a>t</a>",
            '<p><a href="x/id=ref-a" rel="noopener noreferrer">t</a></p>',
        ),
        # Quotes: backticks are none; a quote inside an unquoted value; none between.
        (
            '<a href="x" title=`a id=ref-a`>t</a>',
            '<p><a href="x" title="`a" rel="noopener noreferrer">t</a></p>',
        ),
        (
            '<a title=a"b id=ref-a>t</a>',
            '<p><a title="a&quot;b" rel="noopener noreferrer">t</a></p>',
        ),
        ("<a title='x'id=ref-a>t</a>", '<p><a title="x" rel="noopener noreferrer">t</a></p>'),
        # Spaces around `=`, upper case, duplicates (the first wins in HTML).
        ("<a href = x id = ref-a>t</a>", '<p><a href="x" rel="noopener noreferrer">t</a></p>'),
        (
            '<a title="a" title="b" ID="ref-a">t</a>',
            '<p><a title="a" rel="noopener noreferrer">t</a></p>',
        ),
        # A tag inside a value stays in the value.
        (
            '<a title="<a id=ref-a>">t</a>',
            '<p><a title="&lt;a id=ref-a&gt;" rel="noopener noreferrer">t</a></p>',
        ),
        # What pandoc does not take for a tag is text.
        ("<a &#105;d=ref-a>t</a>", "<p>&lt;a id=ref-a&gt;t</p>"),
        (
            '<a title="unterminated id=ref-a>t</a> more',
            "<p>&lt;a title=“unterminated id=ref-a&gt;t more</p>",
        ),
        # The renderer's own classes and marks cannot be forged.
        ("<sup id=cite-a-1 class=citation-group>1</sup>", "<p><sup>1</sup></p>"),
        ("<span class=citation data-cites=a>x</span>", "<p><span>x</span></p>"),
        ('<span\nclass="x-narrative">Foo</span>', "<p><span>Foo</span></p>"),
        ("<li value=3 id=fn1>x</li>", '<li value="3">\nx\n</li>'),
        ('<div id="refs">x</div>', "<div>\nx\n</div>"),
        # Handlers, form actions, javascript: and foreign images.
        (
            'p <a href="javascript:alert(1)" onclick=y>t</a>',
            '<p>p <a rel="noopener noreferrer">t</a></p>',
        ),
        ('p <img src="data:image/png;base64,AA" srcset="x 1x">', "<p>p <img></p>"),
        (
            "p <form action=javascript:x><button formaction=y>t</button></form> q",
            "p\n\n\nt\n\n\n<p>q</p>",
        ),
        ('p <base href="javascript:x/">q', "<p>p q</p>"),
        ('p <iframe srcdoc="<b>x</b>">t</iframe> q', "<p>p t q</p>"),
        # Comments, CDATA, declarations and processing instructions.
        ("p <!-- a --> q", "<p>p  q</p>"),
        ('p <?xml version="1.0"?> q', "<p>p  q</p>"),
        # Markdown attributes and headings.
        ("[t]{#ref-a .citation style=color:red}", "<p><span>t</span></p>"),
        (
            "![i](/media/x.png){#ref-a .c width=9}",
            '<figure>\n<img src="/media/x.png" alt="i">\n<figcaption>i</figcaption>\n</figure>',
        ),
        ("::: {#refs .footnotes}\nx\n:::", "<div>\n<p>x</p>\n</div>"),
        ("## Dose {#refs .c style=x}", '<h2 id="section-refs">Dose</h2>'),
    ],
)
def test_attacks_on_attributes_render_without_them(body, html):
    assert render(body) == html


def test_the_filter_keeps_the_tags_nh3_keeps():
    """writer_attributes.lua drops every tag nh3 would remove: its list is nh3's."""
    lua = (Path(filter_module.__file__).with_name("writer_attributes.lua")).read_text()
    listed = re.search(r"for name in \(\[\[(.*?)\]\]\)", lua, re.S).group(1).split()
    assert set(listed) == ALLOWED_TAGS | {"h1"}

"""LaTeX in BibTeX values → Unicode text; titles keep italics and get sentence case.

One small parser instead of a general LaTeX engine: it knows what reference managers
write (accents, `{\\textgreater}`, `\\mbox{…}`, `\\emph{…}`, `$p < 0.05$`, `--`, braces
that protect capitals) and never drops text it does not understand: an unknown command
loses only its name, its braced arguments stay as text.

Titles are stored as CSL rich text: plain Unicode in which `<i>`, `<b>`, `<sup>` and
`<sub>` (and nothing else) are markup, as citeproc-js, citeproc and pandoc read CSL-JSON.
Whatever renders a title must escape everything else (see `richtext.rich_text_html`).

Sentence case follows pandoc's biblatex reader, which applies citeproc's CSL sentence
case to English titles: a capitalised word ("Quality") becomes lower case unless it
starts the title or follows ". ", ": ", "? " or "! "; words in capitals (DNA), with
inner capitals (McDonald, iPhone) or with digits stay; a word inside braces (`{COVID-19}`,
`{Parkinson}`) or in maths stays as written. One deliberate difference: a single
capital letter (vitamin D, type I, phase A) is left alone, where citeproc lowers it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pylatexenc import latex2text

from .text import collapse_spaces

ITALIC, BOLD, SUP, SUB = 1, 2, 4, 8
_TAGS = ((ITALIC, "i"), (BOLD, "b"), (SUP, "sup"), (SUB, "sub"))

# A run of output: its text, its style bits and whether sentence case must leave it alone.
Run = tuple[str, int, bool]


class _Group(list):
    """A braced group."""


class _Math(list):
    """Inline maths: `$…$` or `\\(…\\)`."""


# Everything that is not plain text, as one alternation for re.split.
_SPECIAL = re.compile(
    r"""(
      \\[A-Za-z@]+\*?[ \t\n]*   # control word; TeX skips the spaces after it
    | \\[\s\S]                  # control symbol: \" \& \\ \_ …
    | ---|--|``|''|!`|\?`
    | [{}~^_`]
    | \$\$?
    )""",
    re.X,
)
_CONTROL_WORD_END = re.compile(r"[ \t\n]+$")


# Letters and symbols written as commands.
_LETTERS = {
    "i": "ı", "j": "ȷ", "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "ss": "ß", "SS": "SS",
    "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
}  # fmt: skip
_COMBINING = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
    "H": "\u030b", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
    "t": "\u0361", "G": "\u030f",
}  # fmt: skip
# Maths accents: `$\bar{x}$` is a mean and `$\hat{\beta}$` an estimate, not x and β.
_MATH_ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
    "bar": "\u0304", "overline": "\u0305", "breve": "\u0306", "dot": "\u0307",
    "ddot": "\u0308", "check": "\u030c", "acute": "\u0301", "grave": "\u0300",
    "vec": "\u20d7",
}  # fmt: skip
# An accent with nothing to sit on (`\~{}`) is the accent character itself.
_BARE_ACCENT = {'"': "¨", "'": "´", "`": "`", "^": "^", "~": "~", "=": "¯", ".": "˙"}
_CONTROL_SYMBOLS = {
    "&": "&", "%": "%", "#": "#", "_": "_", "$": "$", "{": "{", "}": "}", " ": " ",
    "\n": " ", "\t": " ", ",": " ", ";": " ", ":": " ", ">": " ", "!": "", "-": "",
    "/": "", "@": "", "\\": " ", "|": "‖", "*": "",
}  # fmt: skip
# Text symbols the exporters write, and logos pylatexenc would drop.
_OWN_SYMBOLS = {
    "textgreater": ">", "textless": "<", "textbar": "|", "textbackslash": "\\",
    "textasciitilde": "~", "textasciicircum": "^", "textunderscore": "_",
    "textbraceleft": "{", "textbraceright": "}", "textquotedbl": '"',
    "textquotesingle": "'", "textasciigrave": "`", "textquoteleft": "‘",
    "textquoteright": "’", "textquotedblleft": "“", "textquotedblright": "”",
    "textendash": "–", "textemdash": "—", "textellipsis": "…", "ldots": "…", "dots": "…",
    "textregistered": "®", "texttrademark": "™", "textcopyright": "©", "copyright": "©",
    "textdegree": "°", "degree": "°", "textmu": "µ", "textpm": "±", "texttimes": "×",
    "textdiv": "÷", "textminus": "−", "textperthousand": "‰", "textpertenthousand": "‱",
    "textbullet": "•", "textperiodcentered": "·", "textsection": "§", "S": "§", "P": "¶",
    "textparagraph": "¶", "textdagger": "†", "textdaggerdbl": "‡", "pounds": "£",
    "textsterling": "£", "euro": "€", "texteuro": "€", "EUR": "€", "textyen": "¥",
    "textcent": "¢", "textonehalf": "½", "textonequarter": "¼", "textthreequarters": "¾",
    "textsuperscripttwo": "²", "texttwosuperior": "²", "textthreesuperior": "³",
    "guillemotleft": "«", "guillemotright": "»", "guillemetleft": "«",
    "guillemetright": "»", "guilsinglleft": "‹", "guilsinglright": "›", "quotedblbase": "„",
    "quotesinglbase": "‚", "textexclamdown": "¡", "textquestiondown": "¿",
    "textnumero": "№", "textcelsius": "℃", "textohm": "Ω", "textmho": "℧",
    "textordfeminine": "ª", "textordmasculine": "º", "textdollar": "$", "textalpha": "α",
    "textbeta": "β", "textgamma": "γ", "textdelta": "δ", "textmugreek": "μ",
    "textkappa": "κ", "textlambda": "λ", "textpi": "π", "textsigma": "σ",
    "textvisiblespace": "␣", "hyphen": "-", "slash": "/", "textpercent": "%",
    "ddag": "‡", "textsurd": "√", "checkmark": "✓", "textborn": "★", "textdied": "†",
    "textlbrackdbl": "⟦", "textrbrackdbl": "⟧", "textguarani": "₲",
    "textslash": "/", "space": " ", "nobreakspace": " ", "quad": " ", "qquad": " ",
    "enspace": " ", "thinspace": " ", "enskip": " ", "medskip": " ", "smallskip": " ",
    "bigskip": " ", "newline": " ", "linebreak": " ", "par": " ", "newblock": " ",
    "break": " ", "allowbreak": "", "nolinebreak": "", "nobreak": "", "nobreakdash": "",
    "relax": "", "protect": "", "ignorespaces": "", "unskip": "", "noindent": "",
    "xspace": "", "TeX": "TeX", "LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX",
    "XeTeX": "XeTeX", "XeLaTeX": "XeLaTeX", "LuaTeX": "LuaTeX", "LuaLaTeX": "LuaLaTeX",
    "eTeX": "eTeX", "pdfTeX": "pdfTeX", "pdfLaTeX": "pdfLaTeX", "ConTeXt": "ConTeXt",
    "AmS": "AMS", "AmSTeX": "AMS-TeX", "METAFONT": "METAFONT", "MF": "METAFONT",
    "MP": "MetaPost", "BibLaTeX": "BibLaTeX", "biblatex": "biblatex", "bibtex": "BibTeX",
    # MathSciNet transliterates Russian names with a soft sign: Arnol\cprime d → Arnolʹd.
    "cprime": "ʹ", "cdprime": "ʺ",
    # siunitx, which dose and concentration titles use: \si{\micro\gram\per\litre}.
    "yocto": "y", "zepto": "z", "atto": "a", "femto": "f", "pico": "p", "nano": "n",
    "micro": "µ", "milli": "m", "centi": "c", "deci": "d", "deca": "da", "deka": "da",
    "hecto": "h", "kilo": "k", "mega": "M", "giga": "G", "tera": "T", "gram": "g",
    "metre": "m", "meter": "m", "litre": "L", "liter": "L", "mole": "mol",
    "molar": "M", "second": "s", "minute": "min", "hour": "h", "kelvin": "K",
    "ampere": "A", "candela": "cd", "hertz": "Hz", "newton": "N", "pascal": "Pa",
    "joule": "J", "watt": "W", "volt": "V", "ohm": "Ω", "becquerel": "Bq",
    "gray": "Gy", "sievert": "Sv", "katal": "kat", "dalton": "Da", "tesla": "T",
    "celsius": "°C", "degreeCelsius": "°C", "percent": "%", "per": "/",
    "squared": "²", "cubed": "³",
}  # fmt: skip


def _pylatexenc_symbols() -> dict[str, str]:
    """pylatexenc's table of argument-less macros (Greek letters, maths symbols, …)."""
    table: dict[str, str] = {}
    for spec in latex2text.get_default_latex_context_db().iter_macro_specs():
        repl = spec.simplify_repl
        if (
            isinstance(repl, str)
            and "%" not in repl
            and "<" not in repl
            and "\n" not in repl
            and spec.macroname != "today"
        ):
            table[spec.macroname] = repl
    return table


# Commands whose one argument is kept with a style (bits are XOR-ed for \emph, so an
# emphasis inside italics is upright, as LaTeX does it).
_STYLED = {
    "emph": ITALIC, "mkbibemph": ITALIC, "textit": ITALIC, "textsl": ITALIC,
    "mkbibitalic": ITALIC, "textbf": BOLD, "mkbibbold": BOLD, "textsuperscript": SUP,
    "textsubscript": SUB, "mathit": 0, "mathrm": 0, "mathbf": 0, "mathsf": 0, "mathtt": 0,
    "mathcal": 0, "mathbb": 0, "mathfrak": 0, "mathscr": 0, "boldsymbol": 0, "bm": 0,
    "operatorname": 0, "textrm": 0, "textsf": 0, "textup": 0, "textmd": 0,
    "textnormal": 0, "text": 0, "mkbibacro": 0, "textulc": 0, "uline": 0, "underline": 0,
    "ul": 0, "uppercase": 0, "lowercase": 0, "MakeUppercase": 0, "MakeLowercase": 0,
    "textls": 0, "textlf": 0, "textssc": 0, "textscsc": 0, "lowercase*": 0,
}  # fmt: skip
# Commands whose argument keeps its case: sentence case leaves it alone.
_PROTECTING = frozenset((
    "mbox", "hbox", "texttt", "textsc", "NoCaseChange", "url", "path", "nolinkurl",
    "ensuremath", "nocase", "acronym", "acs", "ac",
))  # fmt: skip
_QUOTING = {"mkbibquote": ("“", "”"), "enquote": ("“", "”"), "enquote*": ("‘", "’"),
            "mkbibparens": ("(", ")"), "mkbibbrackets": ("[", "]"),
            "textquote": ("“", "”")}  # fmt: skip
# Commands whose argument is not text: sorting hacks, spacing, labels.
_DROPPED_ARGUMENT = frozenset((
    "noopsort", "SortNoop", "sortnoop", "noop", "hspace", "hspace*", "vspace", "vspace*",
    "label", "index", "hyphenation", "color", "nocite", "bibstring", "bibsstring",
    "phantom", "hphantom", "vphantom", "setlength", "kern", "footnotemark", "selectlanguage",
))  # fmt: skip
# Two arguments, the first of which is not text: \href{url}{text}.
_SECOND_ARGUMENT = frozenset(("href", "textcolor", "foreignlanguage", "hyperref", "foreignquote",
                              "colorbox", "hyperlink"))  # fmt: skip
# Two arguments shown with a space between: siunitx's \SI{5}{\milli\gram} is "5 mg".
_NUMBER_AND_UNIT = frozenset(("SI", "qty"))
# Declarations change the style of the rest of their group: {\em text}, {\bf text}.
_DECLARATIONS = {"em": ITALIC, "it": ITALIC, "itshape": ITALIC, "sl": ITALIC,
                 "slshape": ITALIC, "bf": BOLD, "bfseries": BOLD, "upshape": -ITALIC,
                 "normalfont": -(ITALIC | BOLD), "rm": -(ITALIC | BOLD), "mdseries": -BOLD,
                 "sc": 0, "scshape": 0, "tt": 0, "ttfamily": 0, "sf": 0, "sffamily": 0,
                 "rmfamily": 0, "small": 0, "footnotesize": 0, "large": 0, "Large": 0,
                 "tiny": 0, "huge": 0, "normalsize": 0, "scriptsize": 0}  # fmt: skip
# Groups starting with these are BibTeX "special characters" ({\"o}, {\ss}): letters, not
# case protection.
_SPECIAL_CHARACTER_STARTS = frozenset(_COMBINING) | frozenset(_LETTERS)

_SYMBOLS = {
    name: text
    for name, text in {**_pylatexenc_symbols(), **_OWN_SYMBOLS}.items()
    if name not in _STYLED
    and name not in _PROTECTING
    and name not in _QUOTING
    and name not in _DROPPED_ARGUMENT
    and name not in _SECOND_ARGUMENT
    and name not in _DECLARATIONS
    and name not in _COMBINING
    and name not in _LETTERS
}

_LIGATURES = {"---": "—", "--": "–", "``": "“", "''": "”", "!`": "¡", "?`": "¿"}
_SPACES = re.compile(r"\s+")
# Values without these are plain text already.
_NEEDS_DECODING = re.compile(r"[\\{}~$`]|--|''")
# Values whose only LaTeX is dashes are decoded without the parser.
_NEEDS_PARSING = re.compile(r"[\\{}~$`]|''")
# Values whose only LaTeX is braces: split, not parsed.
_NEEDS_PARSING_BEYOND_BRACES = re.compile(r"[\\~$`]|--|''")
_BRACES = re.compile(r"([{}])")


# --- Parsing ----------------------------------------------------------------------------


def _parse(value: str) -> list:
    """The value as nested lists: str, ("c", name), ("s", char), ("^", "^"|"_"), _Group,
    _Math."""
    root: list = []
    stack: list[list] = [root]
    top: list = root
    in_math = 0
    pieces = _SPECIAL.split(value)
    for index, piece in enumerate(pieces):
        if not index % 2:  # plain text between specials
            if piece:
                top.append(piece)
            continue
        first = piece[0]
        if first == "\\":
            second = piece[1]
            if second.isalpha() or second == "@":
                top.append(("c", _CONTROL_WORD_END.sub("", piece[1:])))
            elif second in "([":
                top = _Math()
                stack[-1].append(top)
                stack.append(top)
                in_math += 1
            elif second in ")]" and type(top) is _Math:
                stack.pop()
                top = stack[-1]
                in_math -= 1
            else:
                top.append(("s", second))
        elif first == "{":
            group = _Group()
            top.append(group)
            stack.append(group)
            top = group
        elif first == "}":
            # Close the innermost group (and any "$" left open inside it); a stray "}" at
            # the top level is dropped, as BibTeX does.
            while len(stack) > 1 and type(stack[-1]) is _Math:
                stack.pop()
                in_math -= 1
            if len(stack) > 1:
                stack.pop()
            top = stack[-1]
        elif first == "$":
            if type(top) is _Math:
                stack.pop()
                in_math -= 1
            else:
                math = _Math()
                top.append(math)
                stack.append(math)
                in_math += 1
            top = stack[-1]
        elif first == "~":
            top.append(" ")
        elif first in "^_":
            top.append(("^", first) if in_math else first)
        elif first == "`" and len(piece) == 1:
            top.append(piece if in_math else "‘")
        else:  # ligatures
            top.append(piece if in_math else _LIGATURES[piece])
    return root


# --- Rendering --------------------------------------------------------------------------


def _take_argument(nodes: list, index: int) -> tuple[list, int]:
    """The argument starting at `nodes[index]`: a group, one command, or one character."""
    while index < len(nodes):
        node = nodes[index]
        if type(node) is str:
            stripped = node.lstrip()
            if not stripped:
                index += 1
                continue
            # One character is the argument; the rest stays for what follows.
            nodes[index] = stripped[1:]
            return [stripped[0]], index if stripped[1:] else index + 1
        if type(node) is _Group:
            return list(node), index + 1
        return [node], index + 1
    return [], index


def _plain(nodes: list) -> str:
    runs: list[Run] = []
    _render(nodes, 0, False, runs, math=False)
    return "".join(text for text, _, _ in runs)


def _accent(mark: str, argument: list) -> str:
    """A text accent (`\\"o`, `\\'{e}`) on its argument's first letter."""
    base = _plain(argument)
    if not base.strip():
        return _BARE_ACCENT.get(mark, "")
    return _combined(base, _COMBINING[mark])


def _combined(base: str, combining: str) -> str:
    """`combining` on the first letter of `base`, precomposed where Unicode has it."""
    if not base:
        return ""
    first, rest = base[0], base[1:]
    first = {"ı": "i", "ȷ": "j"}.get(first, first)
    return unicodedata.normalize("NFC", first + combining) + rest


def _render(nodes: list, style: int, protected: bool, out: list[Run], *, math: bool) -> None:
    index, count = 0, len(nodes)
    while index < count:
        node = nodes[index]
        index += 1
        kind = type(node)
        if kind is str:
            if node:
                out.append((node, style, protected))
        elif kind is _Group:
            special = (
                bool(node) and type(node[0]) is tuple and node[0][1] in _SPECIAL_CHARACTER_STARTS
            )
            _render(node, style, protected or not special, out, math=math)
        elif kind is _Math:
            _render(node, style, True, out, math=True)
        elif node[0] == "s":
            char = node[1]
            if char in _COMBINING:
                argument, index = _take_argument(nodes, index)
                out.append((_accent(char, argument), style, protected))
            else:
                out.append((_CONTROL_SYMBOLS.get(char, char), style, protected))
        elif node[0] == "^":
            argument, index = _take_argument(nodes, index)
            if node[1] == "^" and argument == [("c", "circ")]:
                out.append(("°", style, True))  # $37^\circ$C: a degree sign, not a raised ∘
                continue
            _render(argument, style | (SUP if node[1] == "^" else SUB), True, out, math=math)
        else:
            name = node[1]
            if name in _SYMBOLS:
                out.append((_SYMBOLS[name], style, protected))
            elif name in _LETTERS:
                out.append((_LETTERS[name], style, protected))
            elif name in _COMBINING:
                argument, index = _take_argument(nodes, index)
                out.append((_accent(name, argument), style, protected))
            elif name in _MATH_ACCENTS:
                argument, index = _take_argument(nodes, index)
                out.append((_combined(_plain(argument), _MATH_ACCENTS[name]), style, protected))
            elif name in _STYLED:
                argument, index = _take_argument(nodes, index)
                bits = _STYLED[name]
                new_style = style ^ bits if name == "emph" else style | bits
                _render(argument, new_style, protected or bool(bits & (SUP | SUB)), out,
                        math=math)  # fmt: skip
            elif name in _PROTECTING:
                argument, index = _take_argument(nodes, index)
                _render(argument, style, True, out, math=math)
            elif name in _QUOTING:
                argument, index = _take_argument(nodes, index)
                opening, closing = _QUOTING[name]
                out.append((opening, style, protected))
                # \mkbibquote marks a quoted title: its words keep their case (as pandoc).
                _render(argument, style, protected or name == "mkbibquote", out, math=math)
                out.append((closing, style, protected))
            elif name in _DROPPED_ARGUMENT:
                _, index = _take_argument(nodes, index)
                if name.startswith("hspace"):
                    out.append((" ", style, protected))
            elif name in _NUMBER_AND_UNIT:
                number, index = _take_argument(nodes, index)
                unit, index = _take_argument(nodes, index)
                _render(number, style, True, out, math=math)
                out.append((" ", style, True))
                _render(unit, style, True, out, math=math)
            elif name in _SECOND_ARGUMENT:
                _, index = _take_argument(nodes, index)
                argument, index = _take_argument(nodes, index)
                _render(argument, style, protected, out, math=math)
            elif name in _DECLARATIONS:
                bits = _DECLARATIONS[name]
                style = style & ~(-bits) if bits < 0 else style | bits
            elif name == "frac" or name == "dfrac" or name == "tfrac":
                numerator, index = _take_argument(nodes, index)
                denominator, index = _take_argument(nodes, index)
                _render(numerator, style, True, out, math=math)
                out.append(("/", style, True))
                _render(denominator, style, True, out, math=math)
            elif name == "sqrt":
                argument, index = _take_argument(nodes, index)
                out.append(("√", style, True))
                _render(argument, style, True, out, math=math)
            # Anything else: the command's name goes, its arguments follow as groups.


# --- Sentence case ----------------------------------------------------------------------

_START, _START_SENTENCE, _AFTER_END, _AFTER_WORD, _AFTER_WORD_END = range(5)
_WORD_SPLIT = re.compile(r"([^\W_]+)")
_SENTENCE_END = re.compile(r"[.?!:]")
_TAG_LIKE = re.compile(r"</?[A-Za-z][^<>]*>")
_CSL_TAG = re.compile(r"</?(?:i|b|sup|sub)>")


def _sentence_case(runs: list[Run]) -> list[Run]:
    text = _sentence_cased_text(runs)
    if text is None:
        return runs
    if len(runs) == 1:
        return [(text, runs[0][1], runs[0][2])]
    result: list[Run] = []
    position = 0
    for run_text, style, protected in runs:
        result.append((text[position : position + len(run_text)], style, protected))
        position += len(run_text)
    return result


def _sentence_cased_text(runs: list[Run]) -> str | None:
    """The runs' text in sentence case (as long as before), or None when nothing changes."""
    text = "".join(run[0] for run in runs) if len(runs) > 1 else runs[0][0] if runs else ""
    # Where sentence case may not touch: braces, maths, super- and subscripts.
    locked: list[tuple[int, int]] = []
    if len(runs) > 1 or (runs and runs[0][2]):
        position = 0
        for run_text, _, protected in runs:
            end = position + len(run_text)
            if protected:
                if locked and locked[-1][1] == position:
                    locked[-1] = (locked[-1][0], end)
                else:
                    locked.append((position, end))
            position = end
    words_text = text
    if "<" in text:
        # CSL markup (<i>…</i>) is transparent: the word after it can start the title.
        # Other tag-like text (a literal <script>) is text that keeps its case.
        words_text = _CSL_TAG.sub(lambda m: "\x00" * len(m.group()), text)
        locked.extend(match.span() for match in _TAG_LIKE.finditer(words_text))
        locked.sort()
    lock_index, lock_count = 0, len(locked)

    pieces = _WORD_SPLIT.split(words_text)  # separator, word, separator, word, …
    # Only words starting with a capital, and the first word of the title or of a
    # sentence, can change; the state before a word depends only on the characters since
    # the previous word (citeproc's state is "after a word" at every word's end).
    replacements: list[tuple[int, str]] = []
    position = 0  # where the current separator starts
    for index in range(1, len(pieces), 2):
        separator = pieces[index - 1]
        word = pieces[index]
        start = position + len(separator)
        position = start + len(word)
        if index == 1:
            at_start = not separator or _after(separator, _START) <= _START_SENTENCE
        elif separator == " " or not _SENTENCE_END.search(separator):
            at_start = False
        else:
            at_start = _after(separator, _AFTER_WORD) <= _START_SENTENCE
            if at_start and separator[0] == "." and _after_abbreviation(pieces[index - 2]):
                # "E. coli", "S. aureus", "vs. placebo", "e.g. the": the period ends an
                # abbreviation, not a sentence. Only the capitalising is skipped; a
                # capitalised word after it ("J. Smith") stays as it is either way.
                at_start = word[0].isupper()
        if at_start:
            new = _starting_form(word)
        else:
            new = _INNER_FORMS.get(word, "")
            if new == "":
                if len(_INNER_FORMS) >= _INNER_FORMS_MAX:
                    _INNER_FORMS.clear()
                new = _INNER_FORMS[word] = _inner_form(word)
        if new is None:
            continue
        if lock_count:
            # Words and locked spans both run left to right: one pointer finds overlaps.
            while lock_index < lock_count and locked[lock_index][1] <= start:
                lock_index += 1
            if lock_index < lock_count and locked[lock_index][0] < position:
                continue
        replacements.append((start, new))
    if not replacements:
        return None
    parts = []
    position = 0
    for start, new in replacements:
        parts.append(text[position:start])
        parts.append(new)
        position = start + len(new)
    parts.append(text[position:])
    return "".join(parts)


def _inner_form(word: str) -> str | None:
    """A word inside a sentence: "Quality" becomes "quality"; anything else stays (None).
    A single capital (vitamin D, type I) stays too."""
    if len(word) == 1 or not word[0].isupper():
        return None
    rest = word[1:]
    if not (rest.isalpha() and rest.islower()):
        return None
    new = word.lower()
    return new if new != word and len(new) == len(word) else None


def _starting_form(word: str) -> str | None:
    """The first word of a title or sentence: "Quality" and "quality" become "Quality".

    A word starting with a Greek letter or the micro sign is a symbol in an English title
    (α-synuclein, β-blockers, µg/L) and stays lower case: "Β" and "Μ" are other letters.
    """
    first = word[0]
    if first == "µ" or "\u0370" <= first <= "\u03ff" or "\u1f00" <= first <= "\u1fff":
        return None
    rest = word[1:]
    capitalised = word[0].isupper() and rest.isalpha() and rest.islower()
    if not (capitalised or (word.isalpha() and word.islower())):
        return None
    new = word[0].upper() + rest.lower()
    return new if new != word and len(new) == len(word) else None


# Words a period follows without ending a sentence (besides single letters: "E. coli").
_ABBREVIATIONS = frozenset((
    "vs", "cf", "ca", "approx", "al", "sp", "spp", "subsp", "var", "viz", "resp", "incl",
    "esp", "ie", "eg",
))  # fmt: skip


def _after_abbreviation(word: str) -> bool:
    return len(word) == 1 or word.lower() in _ABBREVIATIONS


# Words inside sentences repeat from title to title: each is decided once. Bounded: it is
# emptied when full.
_INNER_FORMS: dict[str, str | None] = {}
_INNER_FORMS_MAX = 65536


@lru_cache(maxsize=2048)
def _after(separator: str, state: int) -> int:
    """The sentence-case state after the characters between two words (citeproc's rules)."""
    for char in separator:
        if char in ".?!:":
            state = _AFTER_END
        elif char.isspace():
            if state == _AFTER_END:
                state = _START_SENTENCE
            elif state != _START_SENTENCE:
                state = _AFTER_WORD_END
        elif char in "-/–—":
            state = _AFTER_WORD_END
        # other punctuation (quotes, brackets) leaves the state as it is
    return state


# --- Public functions -------------------------------------------------------------------


def _runs(value: str) -> list[Run]:
    if not _NEEDS_DECODING.search(value):
        return [(value, 0, False)]
    if not _NEEDS_PARSING_BEYOND_BRACES.search(value):
        return _brace_runs(value)
    runs: list[Run] = []
    _render(_parse(value), 0, False, runs, math=False)
    return runs


@lru_cache(maxsize=32768)
def latex_to_unicode(value: str) -> str:
    """`{\\"o}` → ö, `\\&` → &, braces removed, `--` → –, whitespace collapsed; no markup.

    Anything that is not LaTeX, such as `<script>`, passes through untouched: it is text,
    and whatever shows it escapes it.
    """
    if not _NEEDS_DECODING.search(value):
        return collapse_spaces(value)
    if not _NEEDS_PARSING.search(value):
        return collapse_spaces(value.replace("---", "—").replace("--", "–"))
    if _BRACED_SPECIALS.fullmatch(value):
        return collapse_spaces(_BRACED_SPECIAL.sub(_decoded_special, value))
    return collapse_spaces("".join(run[0] for run in _runs(value)))


# Values whose only LaTeX is special characters in braces ({\"u}, {\o}, {\'\i}), as
# reference managers write names. A group's text does not depend on what is around it
# (nothing inside reaches out of it, and nothing outside it is LaTeX), so each group is
# decoded once and the rest is the text as it is.
_BRACED_SPECIALS = re.compile(r"(?:[^\\{}~$`'^_-]|'(?!')|-(?!-)|\{\\[^{}\s]*\})*")
_BRACED_SPECIAL = re.compile(r"\{\\[^{}\s]*\}")


def _decoded_special(match: re.Match[str]) -> str:
    return _special_text(match.group())


@lru_cache(maxsize=4096)
def _special_text(group: str) -> str:
    return "".join(run[0] for run in _runs(group))


def _brace_runs(value: str) -> list[Run]:
    """Text whose only LaTeX is braces ("Effects of {COVID-19} in {Parkinson}'s"): each
    group protects its words, unless it is empty."""
    runs: list[Run] = []
    depth = 0
    for index, piece in enumerate(_BRACES.split(value)):
        if index % 2:
            depth = depth + 1 if piece == "{" else max(depth - 1, 0)
        elif piece:
            runs.append((piece, 0, depth > 0))
    return runs


def latex_to_rich_text(value: str, *, sentence_case: bool = False) -> str:
    """A title: Unicode with CSL rich-text markup (`<i>`, `<b>`, `<sup>`, `<sub>`),
    in sentence case when asked (English titles)."""
    if "<" in value or "textless" in value:
        value = _HTML_CASE_MARKUP.sub(_protected_group, value)
    runs = _runs(value)
    if sentence_case:
        if not any(run[1] for run in runs):
            # No markup: what serialize() would join back is the sentence-cased text.
            text = _sentence_cased_text(runs)
            if text is None:
                text = "".join([run[0] for run in runs])
            return collapse_spaces(text)
        runs = _sentence_case(runs)
    return serialize(runs)


# Rich text that Zotero keeps from publishers' metadata and writes as it is, or as
# {\textless}scp{\textgreater}: Wiley's <scp>COVID</scp>-19, CSL's <span class="nocase">.
# No CSL processor reads these tags; their text is small capitals or case-protected.
_HTML_CASE_MARKUP = re.compile(
    r"(?:<|\{\\textless\})(scp|sc|span)\b[^<>{}]*(?:>|\{\\textgreater\})"
    r"(?P<text>[^<>{}]*)"
    r"(?:<|\{\\textless\})/\1(?:>|\{\\textgreater\})"
)


def _protected_group(match: re.Match[str]) -> str:
    return "{" + match.group("text") + "}"


@lru_cache(maxsize=4096)
def sentence_case_plain(value: str) -> str:
    """Sentence case for text that is already Unicode (no LaTeX), markup left alone."""
    return serialize(_sentence_case([(value, 0, False)]))


def serialize(runs: list[Run]) -> str:
    """Runs as CSL rich text, tags properly nested, whitespace collapsed."""
    if len(runs) == 1 and not runs[0][1]:
        return collapse_spaces(runs[0][0])
    if not any(run[1] for run in runs):
        return collapse_spaces("".join([run[0] for run in runs]))
    parts: list[str] = []
    stack: list[int] = []  # open style bits, outermost first
    for text, style, _ in runs:
        if not text:
            continue
        # Close down to the first open tag this run does not want, then open what it adds.
        keep = 0
        while keep < len(stack) and style & stack[keep]:
            keep += 1
        for bit in reversed(stack[keep:]):
            parts.append(f"</{_TAG_NAMES[bit]}>")
        del stack[keep:]
        for bit, tag in _TAGS:
            if style & bit and bit not in stack:
                parts.append(f"<{tag}>")
                stack.append(bit)
        parts.append(text)
    for bit in reversed(stack):
        parts.append(f"</{_TAG_NAMES[bit]}>")
    result = _SPACES.sub(" ", "".join(parts)).strip()
    if "<" in result:
        # No empty markup, and spaces outside the tags: "<i>in vivo </i>x" reads badly.
        result = _EMPTY_TAG.sub("", result)
        result = _SPACE_BEFORE_CLOSE.sub(r"\1 ", result)
        result = _SPACE_AFTER_OPEN.sub(r" \1", result)
        result = _SPACES.sub(" ", result).strip()
    return result


_TAG_NAMES = dict(_TAGS)
_EMPTY_TAG = re.compile(r"<(i|b|sup|sub)>\s*</\1>")
_SPACE_BEFORE_CLOSE = re.compile(r" (</(?:i|b|sup|sub)>)")
_SPACE_AFTER_OPEN = re.compile(r"(<(?:i|b|sup|sub)>) ")

"""A naughty-strings list in the usual families (control characters, Unicode edge cases,
script and markup injection, SQL, format strings, template syntax, odd whitespace,
reserved words, long and RTL text), assembled here: at least 500 lines."""

from __future__ import annotations

CONTROLS = [f"Title {chr(code)} end" for code in [*range(1, 32), 0x7F, *range(0x80, 0xA0)]]

UNICODE = [
    "\ufeffBOM at the start",
    "Zero\u200bwidth\u200cjoiners\u200d",
    "Right-to-left \u202eoverride\u202c here",
    "\u2066isolate\u2069 and \u200fmarks\u200e",
    "Z̸̡̢̛͖̩̙a̷̧̛͎̹̤͇l̴̨̛̟̝g̸̢̙̹̞o̶̢̙͈ text",
    "Emoji 😀🩺💊🧠👩‍⚕️🏳️‍🌈 family 👨‍👩‍👧‍👦",
    "Flags 🇺🇸🇲🇽🇯🇵 and keycaps 1️⃣#️⃣",
    "日本語のタイトル",
    "中文标题：心理健康",
    "한국어 제목",
    "العربية: الصحة النفسية",
    "עברית: בריאות הנפש",
    "हिन्दी शीर्षक",
    "ภาษาไทย สุขภาพจิต",
    "Ελληνικά και Кириллица",
    "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
    "ﷺ ﷽ ligatures",
    "Combining e\u0301 vs é",
    "Mathematical 𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊",
    "Private use \ue000\uf8ff",
    "Non-characters \ufdd0 \U0001fffe",
    "Tag characters \U000e0041\U000e0042",
    "Variation selectors ︎ ️",
    "Hangul filler \u3164 \uffa0",
    "Mongolian vowel separator \u180e",
    "ǅ Title-case digraph",
    "İstanbul ıi casing",
    "ß → SS, ﬁ → fi",
    "Ω Ohm vs Ω omega",
    "Deseret 𐐷𐐸",
]

WHITESPACE = [
    "Non\u00a0breaking space",
    "Line\u2028separator",
    "Paragraph\u2029separator",
    "Ideographic\u3000space",
    "En\u2002em\u2003thin\u2009hair\u200a",
    "   leading and trailing   ",
    "\t\ttabs\t\t",
    "multi\nline\ntitle",
    "CR\rLF\r\nmix",
    "",
    " ",
]

MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<!-- comment --> text",
    "<![CDATA[ x ]]>",
    "]]> end of CDATA",
    "<?xml version='1.0'?>",
    '<a href="javascript:alert(1)">x</a>',
    "<style>body{display:none}</style>",
    "<b>bold</b> & <i>italic</i>",
    "&lt;escaped&gt; &amp; &quot;",
    "&#x3C;script&#x3E;",
    "&nbsp;&copy;&unknown;",
    "Tom & Jerry",
    "5 < 6 > 4",
    "\"double\" and 'single' quotes",
    "`backticks` and ${template}",
    "{{ 7*7 }} {% now 'Y' %}",
    "{{ request.user.password }}",
    "#{7*7} <%= 7*7 %>",
    "**bold** _em_ [link](http://x) ![img](/x.png)",
    "[@parker2019] citation-looking",
    "# Heading-looking",
    "> quote-looking",
    "| table | looking |",
    "\\ backslash \\n \\t \\\\",
    "url(javascript:alert(1))",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "../../../../etc/passwd",
    "%00%0d%0a",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "\\u003cscript\\u003e",
    "\u2028</script>\u2029",
]

INJECTION = [
    "' OR '1'='1",
    "1; DROP TABLE articles_article; --",
    '" OR ""="',
    "admin'--",
    "1' UNION SELECT NULL--",
    "%s %s %s %n",
    "{0} {1} {name}",
    "%(title)s",
    "$(reboot)",
    "`rm -rf /`",
    "; ls -la",
    "|| true",
    "${jndi:ldap://127.0.0.1/a}",
    "__proto__",
    "constructor.prototype",
    "null",
    "undefined",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1e308",
    "-0",
    "True",
    "None",
    "[]",
    "{}",
    "\\x00",
]

LONG = [
    "A" * 200,
    "Word " * 40,
    "😀" * 200,
    "\u0301" * 200,
    "x" * 199 + "é",
]

BASE = CONTROLS + UNICODE + WHITESPACE + MARKUP + INJECTION + LONG


def naughty_strings() -> list[str]:
    """Every base string alone, inside ordinary words, and ending a sentence: 500+ lines."""
    lines = list(BASE)
    lines += [f"Couples therapy {s} and intimacy" for s in BASE]
    lines += [f"Read about {s}." for s in BASE]
    return lines

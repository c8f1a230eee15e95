"""The Lua filters run on every render take only the elements they change through Lua.

pandoc calls a filter's function for every element of its type, converting each to Lua and
back. A function for every list of inlines (or for `Str`, `Para`...) takes each word of
the text through that: when the raw-HTML cleaning was written as an `Inlines` function, the
live preview of a 10,000-word article went from 230 ms to 366 ms (`make bench`,
bench/preview_render.py), and nothing failed, since CI runs no benchmark. This is the
guard CI runs: the functions each filter defines, as pandoc itself loads the filters.
"""

from __future__ import annotations

import subprocess

import pytest

from articles.pandoc import pandoc_arguments, pandoc_binary

# Elements that are few in any article (and the whole document or its metadata, which
# pandoc hands over once). Adding to this list is a decision to measure with `make bench`.
RARE = {
    "Cite", "Code", "CodeBlock", "Div", "Figure", "Header", "Image", "Link", "RawBlock",
    "RawInline", "Span", "Table", "Meta", "Pandoc",
}  # fmt: skip

# Prints each filter's function names, loading the files as pandoc does.
_LIST_FUNCTIONS = """
for _, path in ipairs(arg) do
  PANDOC_SCRIPT_FILE = path
  for _, filter in ipairs(dofile(path)) do
    local names = {}
    for name in pairs(filter) do names[#names + 1] = name end
    print(table.concat(names, " "))
  end
end
"""


def filter_functions(tmp_path, arguments: list[str]) -> set[str]:
    paths = [arg.split("=", 1)[1] for arg in arguments if arg.startswith("--lua-filter=")]
    script = tmp_path / "functions.lua"
    script.write_text(_LIST_FUNCTIONS, encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - our pinned binary, our script
        [pandoc_binary(), "lua", str(script), *paths],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return set(done.stdout.split())


@pytest.mark.parametrize("bibliography", [None, "references.json"], ids=["plain", "citations"])
def test_filters_define_functions_only_for_rare_elements(tmp_path, bibliography):
    functions = filter_functions(tmp_path, pandoc_arguments(style="apa", bibliography=bibliography))
    assert functions <= RARE, f"functions for common elements: {sorted(functions - RARE)}"
    assert "Cite" in functions or bibliography is None  # the filters were read at all
    assert "RawInline" in functions


def test_the_guard_sees_a_function_for_every_list_of_words(tmp_path):
    slow = tmp_path / "slow.lua"
    slow.write_text("return {{ Inlines = function(list) return list end }}", encoding="utf-8")
    assert filter_functions(tmp_path, [f"--lua-filter={slow}"]) == {"Inlines"}

-- Runs inside pandoc before citeproc: nothing the writer typed may carry id, class or
-- style onto the page (they could target the page's or the admin's stylesheets), and
-- heading ids get the prefix that keeps them apart from the page's own ids.
-- Raw HTML keeps only the attributes in KEEP, whose values nh3 checks again afterwards.

local KEEP = {
  href = true, src = true, alt = true, title = true, lang = true, width = true,
  height = true, colspan = true, rowspan = true, scope = true, start = true,
  reversed = true, value = true, align = true,
}

-- The elements nh3 keeps (rendering.ALLOWED_TAGS, and h1, which the renderer demotes to
-- h2). Any other tag is dropped here, its content kept: nh3 would remove it too, but the
-- parsers before nh3 read some of them as changing how the rest of the page is parsed
-- (`<title>`, `<textarea>`, `<plaintext>`, `<template>`, `</body>`, `<math>`...) and showed
-- the article's text after them as markup, or lost it.
local TAGS = {}
for name in ([[a abbr b blockquote br caption cite code dd del details div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q section s small
    span strong sub summary sup table tbody td tfoot th thead tr u ul]]):gmatch("%a+%d?") do
  TAGS[name] = true
end

local function bare(el)
  el.attr = pandoc.Attr()
  return el
end

-- The attributes in a tag after its name, as HTML reads them: a value in double or single
-- quotes, unquoted (`src=/media/x.png`, where a `/` belongs to the value) or none
-- (`reversed`). Also returns what follows the last one (a `/` there closes the tag).
local function attributes_of(rest)
  local found = {}
  local i = 1
  while true do
    local _, name_end, name = rest:find("^[%s/]*([^%s/>=]+)", i)
    if not name then
      return found, rest:sub(i)
    end
    i = name_end + 1
    local value = ""
    local _, equals_end = rest:find("^%s*=%s*", i)
    if equals_end then
      i = equals_end + 1
      local quote = rest:sub(i, i)
      if quote == '"' or quote == "'" then
        local close = rest:find(quote, i + 1, true) or (#rest + 1)
        value = rest:sub(i + 1, close - 1)
        i = close + 1
      else
        local _, value_end = rest:find("^[^%s>]*", i)
        value = rest:sub(i, value_end)
        i = value_end + 1
      end
    end
    found[#found + 1] = { name = name, value = value }
  end
end

local function clean_tag(tag)
  if tag:sub(1, 4) == "<!--" then
    return ""
  end
  local closing, name, rest = tag:match("^<%s*(/?)%s*([^%s/>]+)(.-)>$")
  if not name then
    return ""  -- a declaration or processing instruction: dropped
  end
  name = name:lower()
  if not TAGS[name] then
    return ""
  end
  if closing == "/" then
    return "</" .. name .. ">"
  end
  local attributes, after = attributes_of(rest)
  local kept = {}
  for _, attribute in ipairs(attributes) do
    local attr = attribute.name:lower()
    if KEEP[attr] then
      -- The value is HTML already (entities and all): only what could end the attribute or
      -- open a tag is escaped. nh3 decodes and checks it again (javascript: URLs).
      local value = attribute.value:gsub('"', "&quot;"):gsub("<", "&lt;")
      kept[#kept + 1] = " " .. attr .. '="' .. value .. '"'
    end
  end
  local self_closing = after:find("/") and " /" or ""
  return "<" .. name .. table.concat(kept) .. self_closing .. ">"
end

-- Where the tag opening at `start` ends: the first `>` outside a quoted attribute value,
-- which may hold one (`title="a > b"`), or nil if none does.
local function tag_end(text, start)
  local i = start + 1
  while i <= #text do
    local c = text:sub(i, i)
    if c == ">" then
      return i
    end
    local _, quote_at, quote = text:find("^=%s*([\"'])", i)
    if quote_at then
      i = text:find(quote, quote_at + 1, true)
      if not i then
        return nil
      end
    end
    i = i + 1
  end
  return nil
end

-- Elements whose content is not HTML but script or style sheet, where `a<b` opens no tag.
-- They never reach the page (nh3 removes them with their content).
local RAW_TEXT = { script = true, style = true }

-- When the tag at `open`..`close` opens a script or style element that this raw text
-- closes: where the closing tag ends, so that the element is dropped whole. (pandoc gives
-- an inline style its own pieces: `<style>`, its content as text, `</style>`.)
-- `lower` is the text in lower case and `unclosed` the names known to have no closing tag
-- further on: both kept for the whole text, so that thousands of unclosed `<script>` tags
-- cost one search, not one search each through the rest of the text.
local function raw_text_end(text, lower, unclosed, open, close)
  local name = text:match("^<(%a+)", open)
  name = name and name:lower()
  if not (name and RAW_TEXT[name]) or unclosed[name] then
    return nil
  end
  local closing = lower:find("</" .. name, close + 1, true)
  if not closing then
    unclosed[name] = true
    return nil
  end
  return text:find(">", closing, true)
end

-- Every tag in raw HTML through clean_tag; comments, declarations, processing
-- instructions, scripts and style sheets dropped; a `<` that opens none of these is
-- text, and escaped as such.
local function clean_html(text)
  local out = {}
  local lower, unclosed = text:lower(), {}
  local i = 1
  while true do
    local open = text:find("<", i, true)
    if not open then
      out[#out + 1] = text:sub(i)
      return table.concat(out)
    end
    out[#out + 1] = text:sub(i, open - 1)
    local close
    if text:find("^<!%-%-", open) then
      local _, ends = text:find("-->", open + 4, true)
      close = ends or #text
    elseif text:find("^</?%a", open) then
      close = tag_end(text, open)
      local skipped = close and raw_text_end(text, lower, unclosed, open, close)
      if skipped then
        close = skipped
      elseif close then
        out[#out + 1] = clean_tag(text:sub(open, close))
      end
    elseif text:find("^<[!?/]", open) then
      close = text:find(">", open, true) or #text
    end
    if not close then
      out[#out + 1] = "&lt;"
      close = open
    end
    i = close + 1
  end
end

local function is_html(el)
  return (el.t == "RawInline" or el.t == "RawBlock")
    and (el.format == "html" or el.format == "html5")
end

-- The script or style element a raw piece opens and does not close, if any.
local function opened_raw_text(el)
  local name = el.text:match("^%s*<(%a+)")
  name = name and name:lower()
  if RAW_TEXT[name] and not el.text:lower():find("</" .. name, 1, true) then
    return name
  end
end

-- The script or style element whose closing tag starts a raw piece, if any. Read as
-- clean_html reads one inside a piece (raw_text_end): `</scriptx>` closes a script too, so
-- the same text renders the same whether pandoc gives it as one piece or several.
local function closed_raw_text(el)
  local lower = el.text:lower()
  for name in pairs(RAW_TEXT) do
    if lower:find("^%s*</" .. name) then
      return name
    end
  end
end

-- Raw pieces are cleaned one by one (`RawInline` and `RawBlock` below), in the one pass
-- over the document that strips attributes: a function for whole lists of inlines would
-- take every word of the text through Lua and back (half of a long article's render).
-- Only pieces that open or close a script or style element need their list: pandoc gives
-- an inline one its own pieces (`<style>`, its content as text, `</style>`), and those up
-- to the closing piece go with the opening one. Such pieces are left as they are in the
-- first pass, and `Pandoc` below then goes through the lists that hold them.
local raw_text_pieces = false

local function raw_piece(el)
  if not is_html(el) then
    return {} -- raw LaTeX and other formats never reach a web page
  end
  if opened_raw_text(el) or closed_raw_text(el) then
    raw_text_pieces = true
    return nil
  end
  el.text = clean_html(el.text)
  return el
end

-- A list with script or style pieces left by the first pass: an opening piece goes with
-- everything up to its closing piece in the list. Without one, only the opening tag goes
-- (as clean_html drops it): emitted, it made the rest of the article a style sheet, which
-- nh3 removes, and the writer's text after a stray `<style>` is text. Every other piece
-- was cleaned already. `unclosed` holds the names with no closing piece further on:
-- thousands of unclosed `<script>` pieces cost one search through the list, not one each.
local function drop_raw_text(list)
  local kept, unclosed = pandoc.List(), {}
  local i = 1
  while i <= #list do
    local el = list[i]
    local name = is_html(el) and opened_raw_text(el)
    local closing
    if name and not unclosed[name] then
      for j = i + 1, #list do
        if is_html(list[j]) and closed_raw_text(list[j]) == name then
          closing = j
          break
        end
      end
      unclosed[name] = not closing
    end
    if closing then
      i = closing
    else
      if is_html(el) and (name or closed_raw_text(el)) then
        el.text = clean_html(el.text)
      end
      kept:insert(el)
    end
    i = i + 1
  end
  return kept
end

local function finish_raw_pieces(doc)
  if raw_text_pieces then
    doc = doc:walk({ Inlines = drop_raw_text, Blocks = drop_raw_text })
  end
  return doc
end

-- Marks narrative citations (`@key says`), which numeric styles print as a bare number:
-- the renderer puts the authors' names where the empty mark is. Made here, after the
-- writer's spans were stripped, so a writer cannot forge the mark. The mark goes before
-- the citation, not around it: citeproc must still see the citation beside the text
-- that follows, or it would not move a period or comma before the superscript
-- ("Written by Rauer.¹", AMA 11 §3.6.1), as it does for every other citation.
local function Cite(el)
  if el.citations[1].mode == "AuthorInText" then
    return {pandoc.Span({}, pandoc.Attr("", {"x-narrative"})), el}
  end
end

local function Header(el)
  local id = el.identifier
  el.attr = pandoc.Attr(id ~= "" and ("section-" .. id) or "")
  return el
end

-- One filter (one pass over the document, then `Pandoc` last). citations.lua runs it and
-- adds to it.
return {
  {
    Cite = Cite,
    Header = Header,
    Div = bare,
    Span = bare,
    Code = bare,
    CodeBlock = bare,
    Link = bare,
    Image = bare,
    Table = bare,
    Figure = bare,
    RawInline = raw_piece,
    RawBlock = raw_piece,
    Pandoc = finish_raw_pieces,
  },
}

-- writer_attributes.lua, then pandoc's citeproc: used in place of `--citeproc`, so that a
-- render can reuse citeproc's result from the one before when only the text around the
-- citations changed (the live preview while the writer types: citeproc is about half of
-- pandoc's run on a long article in APA).
--
-- What citeproc makes depends on the metadata (style, bibliography, language, options)
-- and on the citations in document order, nothing else: together they are a result's
-- key. The caller (articles/pandoc/__init__.py) keeps one result per references file and
-- style, hands it back in KEY_IN and DATA_IN, and sets CLINIC_CITATIONS_KEEP to have new
-- ones written. Reusing a result does what citeproc does with it:
--   1. every citation gets its formatted content;
--   2. the reference list is appended (a heading closing the text is marked unnumbered);
--   3. punctuation next to citations is moved. citeproc moves it only beside a citation
--      ending in a superscript or a note (numeric styles such as AMA) or in a period; a
--      result with such a citation is never kept, so with a kept one nothing moves.
-- Nothing else citeproc does can apply once writer_attributes.lua has run: it leaves no
-- span with citeproc's quote class and no `#refs` div (one found anyway is never reused).
-- Results for citations inside citations (`[@a, see @b]`) or in the metadata are not
-- kept either: the checks below count them differently and give up.

local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local attributes = dofile(pandoc.path.join({ here, "writer_attributes.lua" }))[1]

local KEY_IN, DATA_IN = "citations-cache.key", "citations-cache.json"
local KEY_OUT, DATA_OUT = "citations-new.key", "citations-new.json"
local NOT_KEPT = "citations-new.none" -- why not: "moves" (the style) or "content" (the text)
-- Lines on stderr that tell the caller which warnings are citeproc's (it takes them out).
local LOG = "[clinic citations.lua] "
local KEEP = os.getenv("CLINIC_CITATIONS_KEEP") == "1"

local function read(path)
  local handle = io.open(path, "rb")
  if not handle then
    return nil
  end
  local text = handle:read("a")
  handle:close()
  return text
end

local function write(path, text)
  local handle = assert(io.open(path, "wb"))
  handle:write(text)
  handle:close()
end

local cites = pandoc.List() -- as citeproc reads them, in document order
local refs_div = false

local strip_cite = attributes.Cite
attributes.Cite = function(cite)
  if KEEP then
    cites:insert(cite)
  end
  return strip_cite(cite)
end

local strip_div = attributes.Div
attributes.Div = function(div)
  div = strip_div(div)
  local id = div.identifier
  if id == "refs" or id:sub(-6) == "__refs" then
    refs_div = true
  end
  return div
end

-- The outermost citations, in document order.
local function outermost(doc)
  local found = pandoc.List()
  doc:walk({
    traverse = "topdown",
    Cite = function(cite)
      found:insert(cite)
      return nil, false
    end,
  })
  return found
end

local function reuse(doc, data)
  -- One Plain with each citation's formatted content, then the blocks citeproc appended.
  local kept = pandoc.read(data, "json").blocks
  local n = 0
  doc = doc:walk({
    traverse = "topdown",
    Cite = function(cite)
      n = n + 1
      cite.content = kept[n].content
      return cite, false
    end,
  })
  local blocks = doc.blocks
  local last = blocks[#blocks]
  local first = kept[#cites + 1]
  if first and first.t == "Div" and last and last.t == "Header" then
    local classes = pandoc.List({ "unnumbered" })
    for _, class in ipairs(last.classes) do
      if class ~= "unnumbered" then
        classes:insert(class)
      end
    end
    last.classes = classes
  end
  for i = #cites + 1, #kept do
    blocks:insert(kept[i])
  end
  doc.blocks = blocks
  return doc
end

local function moves_punctuation(cite)
  local last = cite.content[#cite.content]
  return last ~= nil and (last.t == "Superscript" or last.t == "Note")
end

local function ends_with_period(cite)
  return pandoc.utils.stringify(cite.content):sub(-1) == "."
end

-- Writes the result for reuse, or says why it cannot be reused.
local function keep(key, done, count)
  local formatted = outermost(done)
  if refs_div or #formatted ~= #cites then
    return "content"
  elseif formatted:find_if(moves_punctuation) then
    return "moves"
  elseif formatted:find_if(ends_with_period) then
    return "content"
  end
  local kept = formatted:map(function(cite)
    return pandoc.Plain(cite.content)
  end)
  for i = count + 1, #done.blocks do
    kept:insert(done.blocks[i])
  end
  write(DATA_OUT, pandoc.write(pandoc.Pandoc(kept), "json"))
  write(KEY_OUT, key)
  return nil
end

local finish_attributes = attributes.Pandoc
attributes.Pandoc = function(doc)
  doc = finish_attributes(doc)
  local key
  if KEEP then
    key = pandoc.write(pandoc.Pandoc({ pandoc.Plain(cites) }, doc.meta), "json")
    if not refs_div and read(KEY_IN) == key then
      local data = read(DATA_IN)
      if data then
        io.stderr:write(LOG .. "reused\n")
        return reuse(doc, data)
      end
    end
  end
  local count = KEEP and #doc.blocks
  io.stderr:write(LOG .. "begin\n")
  local done = pandoc.utils.citeproc(doc)
  io.stderr:write(LOG .. "end\n")
  if KEEP then
    local not_kept = keep(key, done, count)
    if not_kept then
      write(NOT_KEPT, not_kept)
    end
  end
  return done
end

return { attributes }

-- Runs first: the document's own metadata (a YAML block anywhere in the text, or a
-- `% title` block) is dropped, so a writer cannot change what citeproc does. Without
-- this, `references:` would print entries that are not in the reference library (or
-- replace one that is), `suppress-bibliography: true` would leave the revision with no
-- reference list, `nocite:` would list works the text never cites, and `lang:` or
-- `reference-section-title:` would change the formatting a physician signs off.
-- Only the keys the renderer itself sets on the command line (which take precedence
-- over the document's values) are kept: CLINIC_METADATA_KEYS, separated by spaces.

local keep = {}
for key in (os.getenv("CLINIC_METADATA_KEYS") or ""):gmatch("%S+") do
  keep[key] = true
end

return {
  {
    Meta = function(meta)
      local kept = {}
      for key, value in pairs(meta) do
        if keep[key] then
          kept[key] = value
        end
      end
      return pandoc.Meta(kept)
    end,
  },
}

-- File fields of the plugins: payload fields that name a file on this
-- machine (tsp's `tsplib`, maxcut's `rudy`, qubo's `bqp`). A plugin lists
-- them as `file_fields = { path_field = "text_field" }`, where the text
-- field takes the file's contents and works exactly like the path field.
--
-- The server refuses path fields (files.refuse), since a path would make
-- it read a file of its own disk for any API user; a client that talks to
-- a server sends the contents instead (files.inline).

local check = require "nerox.check"
local plugins = require "nerox.plugins"

local files = {}

-- The plugin itself, or the plugin of a problem type name.
local function plugin_of(plugin)
  if type(plugin) == "string" then return plugins.get(plugin) end
  return check.table(plugin, "plugin")
end

-- The plugin's file fields as a sorted list of {path_field, text_field},
-- so that errors do not depend on table traversal.
function files.fields(plugin)
  local ff = plugin_of(plugin).file_fields
  local out = {}
  if type(ff) ~= "table" then return out end
  for path_field, text_field in pairs(ff) do
    out[#out + 1] = { path_field, text_field }
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

-- The contents of the file at `path`, given as `field`; raises a
-- ValidationError naming the field and the path.
local function read_file(path, field)
  if type(path) ~= "string" or path == "" then
    check.fail(field, "expected a file path, got %s", check.describe(path))
  end
  local f, err = io.open(path, "rb")
  if not f then check.fail(field, "cannot read %s", err) end
  local text, rerr = f:read("a")
  f:close()
  if not text then check.fail(field, "cannot read %s: %s", path, rerr) end
  return text
end

-- A copy of `payload` in which each file field of `plugin` (a plugin or a
-- problem type name) is replaced by its text field, holding the file read
-- here. Raises a ValidationError naming the field when a file cannot be
-- read, or when a path field and its text field are both given.
function files.inline(plugin, payload)
  check.table(payload, "payload")
  local out = {}
  for k, v in pairs(payload) do out[k] = v end
  for _, pair in ipairs(files.fields(plugin)) do
    local path_field, text_field = pair[1], pair[2]
    if out[path_field] ~= nil then
      if out[text_field] ~= nil then
        check.fail(text_field, "give either %s or %s, not both",
                   path_field, text_field)
      end
      out[text_field] = read_file(out[path_field], path_field)
      out[path_field] = nil
    end
  end
  return out
end

-- Raise a ValidationError naming the first file field of `plugin` that
-- `payload` gives: paths are not taken from remote callers. `hints` maps
-- a path field to extra advice appended to the message.
function files.refuse(plugin, payload, hints)
  for _, pair in ipairs(files.fields(plugin)) do
    local path_field, text_field = pair[1], pair[2]
    if payload[path_field] ~= nil then
      check.fail(path_field, "file paths are not accepted over HTTP; " ..
                 "send the file's contents as %s%s", text_field,
                 hints and hints[path_field] or "")
    end
  end
end

return files

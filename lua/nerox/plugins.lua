-- Finds the plugin for a problem type: first the built-in ones compiled
-- into the binary (modules "nerox.plugins.NAME", from plugins/NAME.lua),
-- then NAME.lua in each folder of NEROX_PLUGIN_PATH, in order. A plugin is
-- a table {name, validate, encode, decode, energy}; see docs/sdk.md.

local check = require "nerox.check"
local errors = require "nerox.errors"

local plugins = {}

local cache = {}

-- The functions every plugin provides.
local REQUIRED = { "validate", "encode", "decode", "energy" }

-- Check the shape of a loaded plugin; `origin` says where it came from.
local function check_plugin(p, name, origin)
  if type(p) ~= "table" then
    errors.raise("ServerError", string.format(
      "plugin %s did not return a table", origin))
  end
  if p.name ~= name then
    errors.raise("ServerError", string.format(
      "plugin %s is named %s, expected '%s'", origin,
      check.describe(p.name), name))
  end
  for _, fn in ipairs(REQUIRED) do
    if type(p[fn]) ~= "function" then
      errors.raise("ServerError", string.format(
        "plugin %s has no function '%s'", origin, fn))
    end
  end
  return p
end

-- The built-in plugin NAME, or nil when the binary has none.
local function load_builtin(name)
  local modname = "nerox.plugins." .. name
  local ok, p = pcall(require, modname)
  if ok then return p, modname end
  local missing = "module '" .. modname .. "' not found"
  if tostring(p):find(missing, 1, true) then return nil end
  errors.raise("ServerError", string.format(
    "plugin %s failed to load: %s", modname, tostring(p)))
end

-- The plugin NAME from a folder, or nil when the folder has no NAME.lua.
local function load_from_dir(dir, name)
  local path = dir .. "/" .. name .. ".lua"
  local f = io.open(path, "r")
  if not f then return nil end
  f:close()
  local chunk, err = loadfile(path)
  if not chunk then
    errors.raise("ServerError", "plugin failed to load: " .. err)
  end
  local ok, p = pcall(chunk)
  if not ok then
    errors.raise("ServerError", string.format(
      "plugin %s failed to load: %s", path, tostring(p)))
  end
  return p, path
end

-- The first NAME.lua found in `dirs`, or nil.
local function search_dirs(dirs, name)
  for _, dir in ipairs(dirs) do
    local p, origin = load_from_dir(dir, name)
    if p then return p, origin end
  end
  return nil
end

-- The folders searched after the built-ins.
function plugins.dirs()
  local core = require "nerox.core"
  return core.plugin_dirs()
end

-- The plugin for `name`, searching `dirs` (default: plugins.dirs()).
-- Raises a ValidationError naming problem_type when there is none.
function plugins.get(name, dirs)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    check.fail("problem_type", "expected a problem type name, got %s",
               check.describe(name))
  end
  if not dirs and cache[name] then return cache[name] end
  local p, origin = load_builtin(name)
  if not p then p, origin = search_dirs(dirs or plugins.dirs(), name) end
  if not p then
    check.fail("problem_type", "unknown problem type '%s' (no built-in " ..
               "plugin and no %s.lua on NEROX_PLUGIN_PATH)", name, name)
  end
  check_plugin(p, name, origin)
  if not dirs then cache[name] = p end
  return p
end

return plugins

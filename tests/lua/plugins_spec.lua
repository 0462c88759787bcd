-- Specs for the plugin loader (lua/nerox/plugins.lua).

local plugins = require "nerox.plugins"
local nerox = require "nerox"

local TMP = os.getenv("NEROX_TEST_TMP") .. "/plugins"

local function write(name, text)
  os.execute("mkdir -p '" .. TMP .. "'")
  local f = assert(io.open(TMP .. "/" .. name, "w"))
  f:write(text)
  f:close()
end

local PLUGIN = [[
return {
  name = "%s",
  validate = function(p) end,
  encode = function(p) end,
  decode = function(p, raw) return {} end,
  energy = function(p, s) return 0 end,
}
]]

describe("plugin loader", function()
  it("finds the built-in tsp plugin", function()
    local p = plugins.get("tsp")
    assert.equal("tsp", p.name)
    assert.equal(p, plugins.get("tsp"))
  end)

  it("finds a plugin in a folder of the plugin path", function()
    write("knapsack.lua", PLUGIN:format("knapsack"))
    local p = plugins.get("knapsack", { "/nonexistent", TMP })
    assert.equal("knapsack", p.name)
  end)

  it("reports an unknown problem type under problem_type", function()
    local ok, err = pcall(plugins.get, "nothing_here", { TMP })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ValidationError))
    assert.equal("problem_type", err.field)
  end)

  it("rejects a plugin with the wrong name or missing functions", function()
    write("misnamed.lua", PLUGIN:format("other"))
    local ok, err = pcall(plugins.get, "misnamed", { TMP })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ServerError))
    assert.matches("misnamed", err.message)
    write("partial.lua", 'return { name = "partial" }')
    ok, err = pcall(plugins.get, "partial", { TMP })
    assert.is_false(ok)
    assert.matches("validate", err.message)
  end)

  it("reports a plugin that fails to load", function()
    write("broken.lua", "return {")
    local ok, err = pcall(plugins.get, "broken", { TMP })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ServerError))
    assert.matches("broken.lua", err.message)
  end)

  it("refuses names that are not identifiers", function()
    for _, bad in ipairs{ "../tsp", "a/b", "", 5 } do
      local ok, err = pcall(plugins.get, bad, { TMP })
      assert.is_false(ok)
      assert.equal("problem_type", err.field)
    end
  end)

  it("lists the plugin path of the engine", function()
    assert.equal("table", type(plugins.dirs()))
  end)
end)

-- Helpers shared by the specs (tests/lua/busted_runner.lua puts this
-- folder on package.path).

local nerox = require "nerox"
local assert = require "luassert"

local spec_util = {}

-- Calls submit(payload) and checks that it raises a ValidationError that
-- names `field` (when given) and does not leak a Lua source position;
-- returns the error.
function spec_util.rejects(submit, payload, field)
  local ok, err = pcall(submit, payload)
  assert.is_false(ok, "payload was accepted")
  assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
  if field then assert.equal(field, err.field, tostring(err)) end
  assert.is_nil(tostring(err.message):find("%.lua:%d+:"), err.message)
  return err
end

return spec_util

-- Specs for nerox error values: kinds, nerox.is, tostring, raising.

local nerox = require "nerox"
local errors = require "nerox.errors"

describe("nerox errors", function()
  local KINDS = {
    "RateLimitError", "JobFailedError", "AuthError", "PermissionError",
    "ValidationError", "TimeoutError", "NotFoundError", "ServerError",
    "ConflictError",
  }

  it("exports every kind on the nerox module", function()
    for _, name in ipairs(KINDS) do
      assert.is_not_nil(nerox[name], name)
      assert.equal(name, nerox[name].name)
      assert.equal(name, tostring(nerox[name]))
    end
  end)

  it("builds values carrying kind, message and field", function()
    local err = nerox.ValidationError("has 2 entries, expected 4",
                                      { field = "distance_matrix[3]" })
    assert.equal("ValidationError", err.kind)
    assert.equal("has 2 entries, expected 4", err.message)
    assert.equal("distance_matrix[3]", err.field)
  end)

  it("accepts a single table of fields", function()
    local err = nerox.RateLimitError{ message = "slow down",
                                      retry_after = 3, reset_at = 1700 }
    assert.equal("slow down", err.message)
    assert.equal(3, err.retry_after)
    assert.equal(1700, err.reset_at)
  end)

  it("prints as 'Kind: field: message'", function()
    local err = nerox.ValidationError("has 2 entries, expected 4",
                                      { field = "distance_matrix[3]" })
    assert.equal("ValidationError: distance_matrix[3]: has 2 entries, " ..
                 "expected 4", tostring(err))
    assert.equal("TimeoutError: too slow",
                 tostring(nerox.TimeoutError("too slow")))
  end)

  it("tests kinds with nerox.is", function()
    local err = nerox.TimeoutError("too slow")
    assert.is_true(nerox.is(err, nerox.TimeoutError))
    assert.is_true(nerox.is(err, "TimeoutError"))
    assert.is_true(nerox.is(err, nerox.Error))
    assert.is_false(nerox.is(err, nerox.ValidationError))
    assert.is_false(nerox.is("TimeoutError: too slow", nerox.TimeoutError))
    assert.is_false(nerox.is({ kind = "TimeoutError" }, nerox.TimeoutError))
    assert.is_false(nerox.is(err, "NoSuchError"))
    assert.is_false(nerox.is(nil, nerox.Error))
  end)

  it("raises values that pcall hands back as tables", function()
    local ok, err = pcall(errors.raise, "NotFoundError", "no job-000009",
                          { job_id = "job-000009" })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.NotFoundError))
    assert.equal("job-000009", err.job_id)
    assert.equal("no job-000009", err.message)
  end)

  it("wraps plain strings, keeping nerox errors as they are", function()
    local err = errors.wrap("engine broke")
    assert.is_true(nerox.is(err, nerox.ServerError))
    assert.equal("engine broke", err.message)
    local v = nerox.ValidationError("x", { field = "seed" })
    assert.equal(v, errors.wrap(v))
    assert.is_true(nerox.is(errors.wrap("bad", "ValidationError"),
                            nerox.ValidationError))
  end)

  it("does not let fields overwrite kind or message", function()
    local err = nerox.AuthError("no key", { kind = "X", message = "Y" })
    assert.equal("AuthError", err.kind)
    assert.equal("no key", err.message)
  end)
end)

-- Track GPU-second usage (production guide): the account's usage this
-- billing period, from a server (NEROX_API_URL and NEROX_API_KEY; the
-- key needs the usage:read scope).
-- Usage: nerox run examples/usage.lua

local nerox = require "nerox"

local client = nerox.Client()
local usage = client.usage:get()

print(string.format("Used: %.0fs of %.0fs", usage.used_gpu_seconds,
                    usage.included_gpu_seconds))
print(string.format("Overage: $%.2f", usage.overage_usd))
print(string.format("Resets: %s", usage.period_end))
print(string.format("Plan: %s, jobs this period: %d of %s", usage.plan,
                    usage.jobs_this_period,
                    usage.jobs_limit and tostring(usage.jobs_limit) or
                    "unlimited"))

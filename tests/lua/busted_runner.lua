-- Runs busted inside the nerox host, so specs see the embedded SDK and the
-- engine exactly as user scripts do. Usage:
--   nerox run tests/lua/busted_runner.lua [busted options] SPEC...
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
require("busted.runner")({ standalone = false })

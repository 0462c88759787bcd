-- Runs busted inside the nerox host, so specs see the embedded SDK and the
-- engine exactly as user scripts do. Usage:
--   nerox run tests/lua/busted_runner.lua [busted options] SPEC...
require("busted.runner")({ standalone = false })

#!/usr/bin/env bash
# End-to-end: `nerox keys create|list|revoke|limits` against a database
# file. create prints the key alone on its last line and stores only its
# hash; list shows no secret; revoke marks the key; limits sets an
# account's own limits; bad flags and values exit 2 naming the flag; store
# errors exit 1.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-keys-cli)
db="$tmp/keys.db"

# create: summary, then the key alone on the last line.
"$NEROX" keys create --account acme --plan pro --scopes jobs:read,jobs:write \
  --name ci --db "$db" >"$tmp/create.out" 2>"$tmp/create.err"
e2e_expect_eq "$?" 0 "create exits 0"
key=$(tail -n 1 "$tmp/create.out")
if [[ "$key" =~ ^nrx_[0-9A-Za-z]{40}$ ]]; then e2e_ok "last line is the key"
else e2e_bad "last line is the key (got '$key')"; fi
e2e_expect_grep "$tmp/create.out" "^account: acme \(plan pro\)" "summary"
id=$(sed -n 's/^key id: *//p' "$tmp/create.out")
if grep -qa -- "$key" "$db"* 2>/dev/null; then e2e_bad "key stored in clear"
else e2e_ok "key not stored in clear"; fi

# A second key on the default database (./nerox.db) in the working folder.
(cd "$tmp" && "$NEROX" keys create --account solo --plan starter \
  --scopes admin >/dev/null)
e2e_expect_eq "$([ -f "$tmp/nerox.db" ] && echo yes)" yes "default db path"

# list: the key's row, no secret, not revoked.
"$NEROX" keys list --db "$db" >"$tmp/list.out"
e2e_expect_eq "$?" 0 "list exits 0"
row="^$id +acme +pro +ci +jobs:write,jobs:read .* -$"
e2e_expect_grep "$tmp/list.out" "$row" "list shows the active key"
if grep -q -- "${key:4}" "$tmp/list.out"; then e2e_bad "list shows a secret"
else e2e_ok "list shows no secret"; fi

# revoke: then list shows a revocation time; revoking again fails.
"$NEROX" keys revoke "$id" --db "$db" >"$tmp/revoke.out"
e2e_expect_eq "$?" 0 "revoke exits 0"
"$NEROX" keys list --db "$db" >"$tmp/list2.out"
stamp="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z"
e2e_expect_grep "$tmp/list2.out" "^$id .* $stamp$" "list shows the key revoked"
"$NEROX" keys revoke "$id" --db "$db" 2>"$tmp/revoke2.err"
e2e_expect_eq "$?" 1 "revoking twice exits 1"
e2e_expect_grep "$tmp/revoke2.err" "no '$id'" "revoking twice names the key"

# Another account's plan cannot be changed by create.
"$NEROX" keys create --account acme --plan starter --scopes admin --db "$db" \
  2>"$tmp/plan.err" >/dev/null
e2e_expect_eq "$?" 1 "plan mismatch exits 1"
e2e_expect_grep "$tmp/plan.err" "on plan 'pro', not 'starter'" "plan mismatch"

# Bad flags and values exit 2 and name the flag or value.
bad() { # expected-regex description args...
  local want=$1 what=$2
  shift 2
  "$NEROX" keys "$@" >/dev/null 2>"$tmp/bad.err"
  e2e_expect_eq "$?" 2 "$what exits 2"
  e2e_expect_grep "$tmp/bad.err" "$want" "$what message"
}
bad "unknown plan 'gold'" "unknown plan" create --account a --plan gold \
  --scopes admin --db "$db"
bad "--scopes: unknown scope 'jobs:delete'" "unknown scope" create \
  --account a --plan pro --scopes jobs:read,jobs:delete --db "$db"
bad "--account is required" "missing account" create --plan pro \
  --scopes admin --db "$db"
bad "unknown flag --colour" "unknown flag" list --colour --db "$db"
bad "--db needs a value" "missing value" list --db
bad "--account: bad account name" "bad account" create --account 'a b' \
  --plan pro --scopes admin --db "$db"
bad "missing key ID" "revoke without id" revoke --db "$db"
bad "unknown subcommand 'rotate'" "unknown subcommand" rotate

# Per-account limits: create --limits sets them (unnamed numbers from the
# plan), list shows them, limits changes some and keeps the others, and
# "plan" drops them; bad entries exit 2 naming the entry.
"$NEROX" keys create --account bigco --plan enterprise --scopes jobs:read \
  --limits requests_per_minute=100,concurrent_jobs=8,jobs_per_month=5000 \
  --db "$db" >"$tmp/limits.out" 2>"$tmp/limits.err"
e2e_expect_eq "$?" 0 "create with --limits exits 0"
e2e_expect_grep "$tmp/limits.out" "^limits: +jobs_per_month=5000,\
requests_per_minute=100,concurrent_jobs=8,included_gpu_seconds=720000,\
overage_usd_per_gpu_hour=2 \(the account's own\)$" "create shows the limits"
last=$(tail -n 1 "$tmp/limits.out")
[[ "$last" =~ ^nrx_ ]] && e2e_ok "the key is still the last line" ||
  e2e_bad "the key is still the last line (got '$last')"
"$NEROX" keys list --db "$db" >"$tmp/list3.out"
e2e_expect_grep "$tmp/list3.out" "^bigco +enterprise +account +\
jobs_per_month=5000,requests_per_minute=100,concurrent_jobs=8," \
  "list shows the account's limits"
e2e_expect_grep "$tmp/list3.out" "^acme +pro +plan +jobs_per_month=2000," \
  "list shows a plan's numbers"
"$NEROX" keys limits --account bigco --limits \
  jobs_per_month=unlimited,overage_usd_per_gpu_hour=1.75 --db "$db" \
  >"$tmp/limits2.out"
e2e_expect_eq "$?" 0 "limits exits 0"
e2e_expect_grep "$tmp/limits2.out" "jobs_per_month=unlimited,\
requests_per_minute=100,concurrent_jobs=8,included_gpu_seconds=720000,\
overage_usd_per_gpu_hour=1.75" "limits keeps the numbers not named"
stored=$(python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("SELECT jobs_per_month,"
    " requests_per_minute, concurrent_jobs, overage_usd_per_gpu_hour"
    " FROM accounts WHERE name = ?", ("bigco",)).fetchone()
print(*r)' "$db")
e2e_expect_eq "$stored" "-1 100 8 1.75" "limits stored on the account"
"$NEROX" keys limits --account acme --limits concurrent_jobs=2 --db "$db" \
  >"$tmp/limits3.out"
e2e_expect_grep "$tmp/limits3.out" "jobs_per_month=2000,\
requests_per_minute=60,concurrent_jobs=2" "any plan: numbers from the plan"
"$NEROX" keys limits --account acme --limits plan --db "$db" \
  >"$tmp/limits4.out"
e2e_expect_grep "$tmp/limits4.out" "concurrent_jobs=5,.*\(plan pro\)$" \
  "plan drops the account's limits"
"$NEROX" keys limits --account ghost --limits concurrent_jobs=2 \
  --db "$db" 2>"$tmp/limits.err"
e2e_expect_eq "$?" 1 "limits of an unknown account exits 1"
e2e_expect_grep "$tmp/limits.err" "no 'ghost'" "unknown account named"
bad "--limits: 'concurrent_jobs=0': concurrent_jobs: expected an integer \
>= 1" "zero limit" limits --account bigco --limits concurrent_jobs=0 \
  --db "$db"
bad "--limits: 'rpm=5': unknown limit 'rpm'" "unknown limit" limits \
  --account bigco --limits requests_per_minute=5,rpm=5 --db "$db"
bad "--limits: 'jobs_per_month=lots': jobs_per_month: expected an integer \
>= 1 or unlimited" "bad count" create --account newco --plan enterprise \
  --scopes admin --limits jobs_per_month=lots --db "$db"
bad "--limits: 'concurrent_jobs': expected NAME=VALUE" "no value" limits \
  --account bigco --limits concurrent_jobs --db "$db"
bad "--limits is required" "limits without a list" limits --account bigco \
  --db "$db"
if "$NEROX" keys list --db "$db" | grep -q "^newco "; then
  e2e_bad "a refused create makes no account"
else
  e2e_ok "a refused create makes no account"
fi

# A store error (not a database) exits 1 with the message.
echo "not a database, not at all, not even close to one" >"$tmp/bad.db"
# --config: the server's plan numbers apply, and its db unless --db.
printf '{"db": "%s", "plans": {"pro": {"requests_per_minute": 123}}}' \
  "$tmp/cfg.db" >"$tmp/cfg.json"
"$NEROX" keys create --account cfgacct --plan pro --scopes jobs:read \
  --config "$tmp/cfg.json" >/dev/null
"$NEROX" keys limits --account cfgacct --limits concurrent_jobs=9 \
  --config "$tmp/cfg.json" >"$tmp/cfg.out" 2>&1
e2e_expect_grep "$tmp/cfg.out" "requests_per_minute=123,concurrent_jobs=9" \
  "limits with --config keep the server's plan numbers"
[ -s "$tmp/cfg.db" ] && e2e_ok "--config's db is used" ||
  e2e_bad "--config's db is used"
echo '{"colour": 1}' >"$tmp/cfgbad.json"
"$NEROX" keys list --config "$tmp/cfgbad.json" 2>"$tmp/cfg.err"
e2e_expect_eq "$?" 2 "a bad --config exits 2"
e2e_expect_grep "$tmp/cfg.err" "cfgbad\.json: unknown key 'colour'" \
  "names the file and key"

"$NEROX" keys list --db "$tmp/bad.db" >/dev/null 2>"$tmp/store.err"
e2e_expect_eq "$?" 1 "corrupt db exits 1"
e2e_expect_grep "$tmp/store.err" "not a database" "corrupt db message"

e2e_finish

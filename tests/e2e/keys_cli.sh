#!/usr/bin/env bash
# End-to-end: `nerox keys create|list|revoke` against a database file.
# create prints the key alone on its last line and stores only its hash;
# list shows no secret; revoke marks the key; bad flags and values exit 2
# naming the flag; store errors exit 1.
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

# A store error (not a database) exits 1 with the message.
echo "not a database, not at all, not even close to one" >"$tmp/bad.db"
"$NEROX" keys list --db "$tmp/bad.db" >/dev/null 2>"$tmp/store.err"
e2e_expect_eq "$?" 1 "corrupt db exits 1"
e2e_expect_grep "$tmp/store.err" "not a database" "corrupt db message"

e2e_finish

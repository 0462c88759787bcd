#!/usr/bin/env bash
# Installs what nerox needs on Debian 12 (as root, through apt-get) and
# builds it into build/ (or $NEROX_BUILD_DIR). Safe to run again: it only
# installs what is missing and rebuilds what changed.
#   NEROX_SANITIZE=1  build with address and undefined-behaviour sanitizers
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  lua5.4 liblua5.4-dev lua-cjson lua-busted lua-filesystem
  libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev
  glslang-tools spirv-tools libvulkan-dev mesa-vulkan-drivers
  vulkan-validationlayers vulkan-tools
  python3 curl prometheus wrk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build=${NEROX_BUILD_DIR:-build}
sanitize=OFF
[ "${NEROX_SANITIZE:-0}" = 1 ] && sanitize=ON
werror=OFF
[ "${CI:-}" = true ] && werror=ON
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNEROX_SANITIZE="$sanitize" -DNEROX_WERROR="$werror" >&2
cmake --build "$build" -j"$(nproc)" >&2

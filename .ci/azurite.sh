#!/usr/bin/env bash
# Install Azurite (Microsoft's Azure Storage emulator, npm package "azurite") into .ci/node (git-ignored),
# for the storage pre-flight and delivery tests (tests/storage). Idempotent: an installed v3 is kept.
# The tests find it at .ci/node/node_modules/.bin/azurite-blob (or on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=".ci/node/node_modules/.bin/azurite-blob"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q '^3\.'; then
    echo "azurite $("$bin" --version) already installed in .ci/node"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "azurite.sh: npm is not installed; install Node.js (18 or later) to run the storage tests" >&2
    exit 1
fi
mkdir -p .ci/node
npm install --no-audit --no-fund --no-save --loglevel=error --prefix .ci/node azurite@3
echo "azurite $("$bin" --version) installed in .ci/node"

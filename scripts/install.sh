#!/bin/sh
# The lppg installer, published with each release as `lppg-installer.sh` (the release workflow writes the
# repository and version in place of the two markers below):
#
#   curl -LsSf https://github.com/OWNER/REPO/releases/latest/download/lppg-installer.sh | sh
#
# It picks this machine's archive (Linux x86_64/aarch64: static musl; macOS x86_64/arm64), downloads it with its
# SHA-256 sum, refuses it when the sum differs, and copies `lppg` into LPPG_INSTALL_DIR (default ~/.local/bin).
# Environment: LPPG_INSTALL_DIR; LPPG_VERSION (another release than this installer's); LPPG_DOWNLOAD_URL (where
# the archives are, instead of the release's download URL: a mirror, or file:///dir for a local copy).
set -eu

REPO="${LPPG_REPO:-@LPPG_REPO@}"
VERSION="${LPPG_VERSION:-@LPPG_VERSION@}"
DEST="${LPPG_INSTALL_DIR:-$HOME/.local/bin}"
BASE="${LPPG_DOWNLOAD_URL:-https://github.com/$REPO/releases/download/v$VERSION}"

say() { printf 'lppg installer: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

case "$REPO$VERSION" in
  *@LPPG_*) [ -n "${LPPG_DOWNLOAD_URL:-}" ] || fail "this copy was not written by a release: set LPPG_REPO and LPPG_VERSION" ;;
esac
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) target=x86_64-unknown-linux-musl ;;
  Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-musl ;;
  Darwin-x86_64) target=x86_64-apple-darwin ;;
  Darwin-arm64) target=aarch64-apple-darwin ;;
  *) fail "no lppg build for $(uname -s) $(uname -m); build from source: cargo install --locked --git <repository>" ;;
esac
name="lppg-$VERSION-$target"

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,file' --tlsv1.2 -fsSL "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then
    wget -q "$1" -O "$2"
  else
    fail "needs curl or wget"
  fi
}
sum_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
say "downloading $name.tar.gz from $BASE"
fetch "$BASE/$name.tar.gz" "$tmp/$name.tar.gz" || fail "cannot download $BASE/$name.tar.gz"
fetch "$BASE/$name.tar.gz.sha256" "$tmp/$name.tar.gz.sha256" || fail "cannot download $BASE/$name.tar.gz.sha256"
want=$(cut -d ' ' -f 1 < "$tmp/$name.tar.gz.sha256")
got=$(sum_of "$tmp/$name.tar.gz")
[ "$want" = "$got" ] || fail "SHA-256 of $name.tar.gz is $got, the release says $want: not installed"
tar -C "$tmp" -xzf "$tmp/$name.tar.gz"
mkdir -p "$DEST"
cp "$tmp/$name/lppg" "$DEST/lppg.tmp"
chmod 755 "$DEST/lppg.tmp"
mv "$DEST/lppg.tmp" "$DEST/lppg"
say "installed $("$DEST/lppg" --version) in $DEST/lppg"
case ":$PATH:" in
  *":$DEST:"*) ;;
  *) say "$DEST is not on your PATH: add it, or run $DEST/lppg" ;;
esac

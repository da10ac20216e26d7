#!/usr/bin/env bash
# Builds one release archive and checks it: the release workflow (.github/workflows/release.yml) runs this same
# script for each target, so running it here tests the packaging on this machine.
#
#   bash scripts/package.sh                 # the host's target (Linux: the static musl build)
#   bash scripts/package.sh TARGET          # x86_64-unknown-linux-musl, aarch64-unknown-linux-musl,
#                                           # x86_64-apple-darwin, aarch64-apple-darwin
#   PROFILE=dev bash scripts/package.sh     # the same packaging and checks on a quicker debug build
#
# Steps: `cargo build --locked --profile dist --target TARGET` (Cargo.toml's `dist` profile: small and fast, slow
# to build); an archive `dist/lppg-VERSION-TARGET.tar.gz` holding `lppg-VERSION-TARGET/` (the binary, README,
# LICENSE, THIRD-PARTY-NOTICES) and its SHA-256 sum `dist/lppg-VERSION-TARGET.tar.gz.sha256` (`sha256sum -c`
# format), and the installer `dist/lppg-installer.sh` (scripts/install.sh with the version written in); then the
# check: unpack the archive in a new directory, verify the sum, run `lppg --version` (it must print this version)
# and `lppg template --out` (it must write the template and the function's zip), install it with the installer
# from a file:// URL (and see the installer refuse a damaged copy), and on Linux check the binary is static (no
# ELF interpreter). The archive is only kept when every check passes.
#
# A Linux musl target needs the musl C compiler for ring's few C and assembly files (`apt-get install musl-tools`)
# and `rustup target add TARGET`. Build time and size are printed on stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

host_target() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
    Darwin-x86_64) echo x86_64-apple-darwin ;;
    Darwin-arm64 | Darwin-aarch64) echo aarch64-apple-darwin ;;
    *) echo "no release target for $(uname -s) $(uname -m)" >&2; exit 2 ;;
  esac
}

TARGET=${1:-$(host_target)}
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
NAME="lppg-$VERSION-$TARGET"
OUT="$ROOT/dist"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# The installer of this release: scripts/install.sh with the repository (GITHUB_REPOSITORY in the workflow) and
# the version written in.
render_installer() {
  sed -e "s|@LPPG_REPO@|${GITHUB_REPOSITORY:-@LPPG_REPO@}|" -e "s|@LPPG_VERSION@|$1|" scripts/install.sh > "$2"
}
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

# 1. The build. musl targets link statically with rustc's own musl; ring's C files are compiled by musl-gcc.
case "$TARGET" in
  x86_64-unknown-linux-musl | aarch64-unknown-linux-musl)
    if [[ "$TARGET" == "$(host_target)" ]] && command -v musl-gcc >/dev/null; then
      export "CC_${TARGET//-/_}=musl-gcc"
    fi
    ;;
esac
PROFILE=${PROFILE:-dist}
echo "building $NAME (cargo build --locked --profile $PROFILE --target $TARGET)" >&2
start=$(date +%s)
cargo build --locked --profile "$PROFILE" --target "$TARGET"
secs=$(( $(date +%s) - start ))
BIN="$TARGET_DIR/$TARGET/$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")/lppg"

# 2. The archive and its sum.
stage=$(mktemp -d)
check=$(mktemp -d)
trap 'rm -rf "$stage" "$check"' EXIT
mkdir -p "$stage/$NAME" "$OUT"
cp "$BIN" "$stage/$NAME/lppg"
cp README.md LICENSE THIRD-PARTY-NOTICES.md "$stage/$NAME/"
tar -C "$stage" -czf "$stage/$NAME.tar.gz" "$NAME"
(cd "$stage" && sha256 "$NAME.tar.gz" > "$NAME.tar.gz.sha256")

# 3. The check, on the archive as a user downloads it.
cp "$stage/$NAME.tar.gz" "$stage/$NAME.tar.gz.sha256" "$check/"
(cd "$check" && sha256 -c "$NAME.tar.gz.sha256" >/dev/null) || { echo "SHA-256 sum does not match" >&2; exit 1; }
tar -C "$check" -xzf "$check/$NAME.tar.gz"
lppg="$check/$NAME/lppg"
for f in README.md LICENSE THIRD-PARTY-NOTICES.md; do
  [[ -f "$check/$NAME/$f" ]] || { echo "the archive lacks $f" >&2; exit 1; }
done
if [[ "$TARGET" == "$(host_target)" ]]; then
  said=$("$lppg" --version)
  [[ "$said" == "lppg $VERSION" ]] || { echo "lppg --version printed '$said', not 'lppg $VERSION'" >&2; exit 1; }
  "$lppg" template --out "$check/template" 2>/dev/null
  [[ -s "$check/template/template.yaml" ]] || { echo "lppg template --out wrote no template.yaml" >&2; exit 1; }
  [[ -s "$check/template/function.zip" ]] || { echo "lppg template --out wrote no function.zip" >&2; exit 1; }
  echo "checked: $said; lppg template --out wrote template.yaml and function.zip" >&2
  # The installer, from these files (file://) into a new directory; then once more with a damaged archive.
  render_installer "$VERSION" "$check/lppg-installer.sh"
  LPPG_DOWNLOAD_URL="file://$check" LPPG_INSTALL_DIR="$check/bin" sh "$check/lppg-installer.sh" 2>/dev/null
  [[ "$("$check/bin/lppg" --version)" == "lppg $VERSION" ]] || { echo "the installer did not install lppg" >&2; exit 1; }
  mkdir "$check/bad"
  cp "$check/$NAME.tar.gz.sha256" "$check/bad/"
  printf 'x' | cat "$check/$NAME.tar.gz" - > "$check/bad/$NAME.tar.gz"
  if LPPG_DOWNLOAD_URL="file://$check/bad" LPPG_INSTALL_DIR="$check/bad/bin" sh "$check/lppg-installer.sh" 2>/dev/null \
    || [[ -e "$check/bad/bin/lppg" ]]; then
    echo "the installer installed an archive whose SHA-256 sum differs" >&2
    exit 1
  fi
  echo "checked: the installer installs the archive, and refuses it when its sum differs" >&2
else
  echo "not run: $TARGET is not this machine's target ($(host_target))" >&2
fi
if [[ "$TARGET" == *linux-musl ]] && command -v readelf >/dev/null; then
  if readelf -l "$lppg" | grep -q 'program interpreter'; then
    echo "the $TARGET binary is dynamically linked (it has an ELF interpreter)" >&2
    exit 1
  fi
  echo "checked: static (no ELF interpreter)" >&2
fi

mv "$stage/$NAME.tar.gz" "$stage/$NAME.tar.gz.sha256" "$OUT/"
render_installer "$VERSION" "$OUT/lppg-installer.sh"
size=$(wc -c < "$BIN")
echo "built $OUT/$NAME.tar.gz in ${secs} s: binary $((size / 1000)) kB ($(( $(wc -c < "$OUT/$NAME.tar.gz") / 1000 )) kB archive)" >&2
echo "$OUT/$NAME.tar.gz"

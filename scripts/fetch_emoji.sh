#!/usr/bin/env bash
# Fetches the 64x64 emoji PNGs of two art styles (Twitter's Twemoji and
# Google's Noto) from the npm packages emoji-datasource-{twitter,google}
# and lays them out for keras_gans.datasets.load_emoji:
#
#   DEST/twitter/*.png   DEST/google/*.png   (same file names in both)
#   DEST/emoji.json      (maps each file name, field "image", to a "category")
#   DEST/LICENSE.md      (attribution: Twemoji CC-BY 4.0, Noto Apache-2.0)
#
# Usage: bash scripts/fetch_emoji.sh [DEST]      (default: data/emoji)
# Needs npm (it downloads about 140 MB from the npm registry). Idempotent:
# a complete DEST is left alone; a partial one is rebuilt.
set -euo pipefail
# A DEST given on the command line is relative to the caller's directory;
# the default is data/emoji in the repository (gitignored).
if [ $# -ge 1 ]; then DEST=$(realpath -m "$1"); fi
cd "$(dirname "$0")/.."
DEST=${DEST:-data/emoji}
VERSION=16.0.0
COUNT=3786  # PNGs per style in emoji-datasource 16.0.0
STYLES=(twitter google)
STAMP="$DEST/.complete"

count() { find "$DEST/$1" -maxdepth 1 -name '*.png' 2>/dev/null | wc -l; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "emoji-datasource $VERSION" ] \
   && [ -f "$DEST/emoji.json" ] && [ "$(count twitter)" = $COUNT ] && [ "$(count google)" = $COUNT ]; then
  echo "emoji data already in $DEST ($COUNT images per style)"
  exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed (e.g. sudo apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
packages=()
for style in "${STYLES[@]}"; do packages+=("emoji-datasource-$style@$VERSION"); done
echo "downloading ${packages[*]} ..."
(cd "$tmp" && npm pack --silent "${packages[@]}" >/dev/null)

mkdir -p "$tmp/out"
for style in "${STYLES[@]}"; do
  mkdir -p "$tmp/$style"
  tar -xzf "$tmp/emoji-datasource-$style-$VERSION.tgz" -C "$tmp/$style"
  src="$tmp/$style/package/img/$style/64"
  [ -d "$src" ] || { echo "error: $src missing from the npm package" >&2; exit 1; }
  mkdir -p "$tmp/out/$style"
  cp "$src"/*.png "$tmp/out/$style/"
done
cp "$tmp/twitter/package/emoji.json" "$tmp/out/emoji.json"
cat > "$tmp/out/LICENSE.md" <<EOF
# Emoji images (emoji-datasource $VERSION, https://github.com/iamcal/emoji-data)

- twitter/: Twemoji by Twitter, Inc. and other contributors, licensed under
  CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Source:
  https://github.com/jdecked/twemoji
- google/: Noto Emoji by Google Inc., licensed under the Apache License 2.0
  (https://www.apache.org/licenses/LICENSE-2.0). Source:
  https://github.com/googlefonts/noto-emoji
- emoji.json: emoji-data by Cal Henderson, MIT licence.

Fetched with scripts/fetch_emoji.sh from the npm packages
emoji-datasource-twitter@$VERSION and emoji-datasource-google@$VERSION.
EOF

mkdir -p "$DEST"
rm -f "$STAMP"
for style in "${STYLES[@]}"; do
  rm -rf "${DEST:?}/$style"
  mv "$tmp/out/$style" "$DEST/$style"
done
mv "$tmp/out/emoji.json" "$tmp/out/LICENSE.md" "$DEST/"
echo "emoji-datasource $VERSION" > "$STAMP"
for style in "${STYLES[@]}"; do
  echo "$DEST/$style: $(count "$style") PNGs"
done

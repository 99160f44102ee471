#!/usr/bin/env bash
# Turn a fresh Debian or Ubuntu machine into an nslab course machine.
# Run it as root, from the repository: `bash setup.sh`. It is idempotent:
# a second run installs nothing and takes a second. CI runs it too, and
# so does cloud-init.yaml on a new VM.
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

# The tools the checks run inside and around containers.
PACKAGES=(
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
    # `just bench` (issue 9): the timer, peak memory, and the peers it
    # measures the runtime against (unshare is in util-linux).
    hyperfine time
    bubblewrap crun runc
    podman         # lesson 11: podman (with conmon) drives the course's runtime
)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run this as root (sudo -i, then bash setup.sh)" >&2
    exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
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
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "rustup component add $component"
        rustup component add "$component"
    fi
done

install_pinned() { # NAME VERSION
    local installed
    installed=$("$1" --version 2>/dev/null | awk '{print $2}' | sed 's/^v//' || true)
    if [ "$installed" != "$2" ]; then
        say "cargo install --locked $1@$2"
        cargo install --quiet --locked "$1@$2"
    fi
}
install_pinned just "$JUST_VERSION"
install_pinned mdbook "$MDBOOK_VERSION"
install_pinned mdbook-linkcheck2 "$MDBOOK_LINKCHECK2_VERSION"

# `just` must be on the PATH of the next command the learner types, even
# in a shell that does not read ~/.cargo/env.
for tool in just mdbook mdbook-linkcheck2; do
    if [ ! -e "/usr/local/bin/$tool" ]; then
        ln -s "$(command -v "$tool")" "/usr/local/bin/$tool"
    fi
done

say "ready. Next: just lesson 0"

# nslab: every command you type. `just` alone lists them.
#
# Lesson numbers can be given as 4 or 04. The learner's recipes do not echo
# the command they run (@), and end on the checker's last words, not on
# just's own "recipe failed" line ([no-exit-message]); they still exit
# with the checker's status, for scripts.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

# Show the recipes.
default:
    @just --list --unsorted

# `just lesson 7 --mine` checks your own runtime instead: your own lessons 00
# to N together, no solution code.
# Check your lesson N: `just lesson 1`; add `--mine` for your own lessons 00 to N together.
[no-exit-message]
lesson N *FLAGS:
    @cargo run --quiet -p nslab-checker -- check "$@"

# Where you are: ✓, ✗ or not started for every lesson, your own runtime, and the next lesson to do.
[no-exit-message]
progress:
    @cargo run --quiet -p nslab-checker -- progress

# Check lesson N again each time you save one of its files (Ctrl-C stops).
[no-exit-message]
watch N:
    @cargo run --quiet -p nslab-checker -- watch {{N}}

# The next hint for lesson N, one at a time (`--again` starts over).
[no-exit-message]
hint N *FLAGS:
    @cargo run --quiet -p nslab-checker -- hint "$@"

# Put lesson N's exercise file back as it was, after asking; yours is kept in backups/.
[no-exit-message]
reset N *FLAGS:
    @cargo run --quiet -p nslab-checker -- reset "$@"

# Write every lesson's src/lib.rs from its solution (maintainers); `--check` only lists stale ones.
[no-exit-message]
stubs *FLAGS:
    @cargo run --quiet -p nslab-checker -- stubs "$@"

# The same checks, against the reference solution.
[no-exit-message]
solution N:
    @cargo run --quiet -p nslab-checker -- check {{N}} --solution

# `just run 7 --mine -- sh` runs your own lessons 00 to N together, no
# solution code.
# Run your lesson-N container: `just run 1 -- hostname`; `--mine` runs your own lessons 00 to N.
[no-exit-message]
run N *ARGS:
    @cargo run --quiet -p nslab-checker -- run "$@"

# Run the reference container: `just run-solution 1 --hostname box -- sh`.
[no-exit-message]
run-solution N *ARGS:
    @cargo run --quiet -p nslab-checker -- run {{N}} --solution "${@:2}"

# `exec` is lesson 07's, run by the binary that started the container, so
# that the command also joins what later lessons give it (08's cgroup,
# 10's capabilities and filter).
# Run a command in a running container started with `--name NAME`: `just exec web -- sh`.
[no-exit-message]
exec NAME *ARGS:
    @cargo run --quiet -p nslab-checker -- exec "$@"

# The same as `exec`, with the reference solution of that lesson.
[no-exit-message]
exec-solution NAME *ARGS:
    @cargo run --quiet -p nslab-checker -- exec --solution "$@"

# Podman with your runtime in place of runc (lesson 11, as root):
# `just podman -- run --rm --rootfs "$(just rootfs | tail -1)" -- echo hi`.
podman *ARGS:
    @cargo build --quiet --bin lesson-11
    @{{just_executable()}} _podman target/debug/lesson-11 "$@"

# The same with the reference runtime.
podman-solution *ARGS:
    @cargo build --quiet --bin solution-11
    @{{just_executable()}} _podman target/debug/solution-11 "$@"

# podman --runtime RUNTIME ARGS, for the two above. Podman 4.3 takes every
# word after `--rootfs PATH` as the command, `--` included, so a `--` there
# is dropped; `run` gets this shell's hard limits for nofile and nproc
# (at most 20000) unless given: podman's default nofile is above what root
# may set where CAP_SYS_RESOURCE is missing, as in some VMs; and `--network
# none` unless a network is given: podman's default bridge (CNI) leaves a
# bridge and firewall tables on the host after the container is gone.
[private]
_podman RUNTIME *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    runtime="$PWD/{{RUNTIME}}"; shift
    args=(); previous=""; before_previous=""
    for arg in "$@"; do
        if [ "$arg" = "--" ] && { [ ${#args[@]} -eq 0 ] || [ "$before_previous" = "--rootfs" ]; }; then
            before_previous="$previous"; previous="$arg"; continue
        fi
        args+=("$arg"); before_previous="$previous"; previous="$arg"
    done
    if [ "${args[0]:-}" = run ] && [[ " ${args[*]} " != *" --ulimit "* ]]; then
        at_most() { local hard; hard=$(ulimit "$1"); [ "$hard" = unlimited ] || [ "$hard" -gt 20000 ] && hard=20000; echo "$hard"; }
        nofile=$(at_most -Hn); nproc=$(at_most -Hu)
        args=(run --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "${args[@]:1}")
    fi
    if [ "${args[0]:-}" = run ] && [[ " ${args[*]} " != *" --network"* && " ${args[*]} " != *" --net"* ]]; then
        args=(run --network none "${args[@]:1}")
    fi
    exec podman --runtime "$runtime" "${args[@]}"

# Build (or find) the container's root filesystem; its path is the last line.
# It says what was changed in it since; `just rootfs --fresh` builds it again.
[no-exit-message]
rootfs *FLAGS:
    @cargo run --quiet -p nslab-checker -- rootfs "$@"

# That is its state, lease, veths, cgroups, the bridge and NAT, and, as
# root, every user's state directory.
# Remove what a killed container runtime left behind on the host.
[no-exit-message]
clean:
    @cargo run --quiet -p nslab-checker -- clean

# hyperfine's exports and the table go to target/bench/.
# Time the reference runtime beside unshare, bwrap, crun, runc, podman and the
# kernel's floor, in interleaved rounds (as root; NSLAB_BENCH_ROUNDS, NSLAB_BENCH_RUNS).
[no-exit-message]
bench:
    @cargo run --quiet -p nslab-checker -- bench

# The whole suite, as CI runs it (as root): style, fresh stubs, lints, the
# bench's musl build, tests, self-test, mutants, book.
test:
    cargo fmt --all --check
    cargo run --quiet -p nslab-checker -- stubs --check
    cargo clippy --quiet --workspace --all-targets -- -D warnings
    cargo check --quiet --workspace --bins --target "$(uname -m)-unknown-linux-musl"
    cargo test --quiet --workspace
    cargo run --quiet -p nslab-checker -- unprivileged
    cargo test --quiet --workspace -- --ignored
    cargo run --quiet -p nslab-checker -- self-test
    cargo run --quiet -p nslab-checker -- mutants
    {{just_executable()}} book-check

# Prove every check fails on its untouched stub and passes on its solution.
[no-exit-message]
self-test *LESSONS:
    @cargo run --quiet -p nslab-checker -- self-test "$@"

# Prove a check catches each catalogued learner mistake and names the fix.
# Each catalogued learner mistake (lessons/NN-name/mistakes.toml) is made in
# a scratch copy; `just mutants 4` for one lesson, all without N.
mutants *LESSONS:
    @cargo run --quiet -p nslab-checker -- mutants "$@"

# Maintainers: cargo-mutants' mutants of lesson N's solution (those inside the
# exercises), each built in the scratch copy and run against every check of
# the lesson; what none catches is a candidate for lessons/NN-name/mistakes.toml.
# Slow (minutes per lesson): not part of `just test`.
# Maintainers: find mistakes no check catches with cargo-mutants (slow).
mutants-explore N:
    @command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants@27.1.0
    @cargo run --quiet -p nslab-checker -- mutants-explore {{N}}

# Serve the book on port 3000, English and 简体中文 (`just book zh-CN` opens
# the Chinese one); in a VM, `just book 0.0.0.0` or `just book zh-CN 0.0.0.0`.
# The first time, it installs mdbook (setup.sh leaves it out of a
# learner's first three minutes).
[no-exit-message]
book *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    language=en; address=127.0.0.1
    for arg in {{ARGS}}; do
        case $arg in
            en|zh-CN) language=$arg ;;
            zh|zh-cn|cn) language=zh-CN ;;
            *) address=$arg ;;
        esac
    done
    command -v mdbook-gettext >/dev/null || bash setup.sh --book
    MDBOOK_LOG=warn python3 book/i18n.py site target/book-site >/dev/null
    page=""; [ "$language" = zh-CN ] && page="zh-CN/"
    echo "book: http://localhost:3000/$page (English: /, 简体中文: /zh-CN/); Ctrl-C to stop"
    exec python3 -m http.server 3000 --bind "$address" --directory target/book-site

# Build both books, check both books' links (never web links: CI stays
# offline), and check that every English paragraph has its translation.
book-check:
    @command -v mdbook-linkcheck2 >/dev/null || { echo "mdbook-linkcheck2 is missing: run bash setup.sh --maintainer" >&2; exit 1; }
    @command -v mdbook-gettext >/dev/null || { echo "mdbook-i18n-helpers is missing: run bash setup.sh --maintainer" >&2; exit 1; }
    python3 book/i18n.py site target/book-site
    python3 book/i18n.py check

# After changing the English book: bring book/po/zh-CN.po up to date (new
# and changed paragraphs become untranslated or fuzzy until translated).
po:
    python3 book/i18n.py update
    python3 book/i18n.py check || true

# Render the book's introduction and a lesson in headless Chromium, and check them.
# The PNGs go to target/book-screenshots/; chromium is installed the first
# time.
book-screenshots:
    bash book/screenshots.sh

# Is this machine ready for the course?
[no-exit-message]
doctor:
    @cargo run --quiet -p nslab-checker -- doctor

# A clean clone, `bash setup.sh && just lesson 0` with nothing built and none
# of the course's tools, then a second setup.sh.
# Time how long a new learner waits before the first check.
setup-time:
    .ci/setup-time

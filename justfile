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

# Check your lesson N: `just lesson 1`. `just lesson 7 --mine` checks your own
# runtime instead: your lessons 00 to 07 together, no solution code.
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

# Run your lesson-N container: `just run 1 -- hostname`; `just run 7 --mine -- sh`
# runs your own lessons 00 to 07 together, no solution code.
[no-exit-message]
run N *ARGS:
    @cargo run --quiet -p nslab-checker -- run "$@"

# Run the reference container: `just run-solution 1 --hostname box -- sh`.
[no-exit-message]
run-solution N *ARGS:
    @cargo run --quiet -p nslab-checker -- run {{N}} --solution "${@:2}"

# Run a command in a running container started with `--name NAME`, with your lesson-07: `just exec web -- sh`.
[no-exit-message]
exec NAME *ARGS:
    @cargo build --quiet --bin lesson-07
    @target/debug/lesson-07 exec "$@"

# The same with the reference solution-07.
[no-exit-message]
exec-solution NAME *ARGS:
    @cargo build --quiet --bin solution-07
    @target/debug/solution-07 exec "$@"

# Build (or find) the container's root filesystem; its path is the last line.
# It says what was changed in it since; `just rootfs --fresh` builds it again.
[no-exit-message]
rootfs *FLAGS:
    @cargo run --quiet -p nslab-checker -- rootfs "$@"

# Remove what a killed container runtime left behind on the host: its state,
# lease, veths, the bridge, NAT, and every user's state directory as root.
[no-exit-message]
clean:
    @cargo run --quiet -p nslab-checker -- clean

# Time the reference runtime beside unshare, bwrap, crun and runc (as root);
# hyperfine's exports and the table go to target/bench/.
[no-exit-message]
bench:
    @cargo run --quiet -p nslab-checker -- bench

# The whole suite, as CI runs it (as root): style, fresh stubs, lints, tests, self-test, book.
test:
    cargo fmt --all --check
    cargo run --quiet -p nslab-checker -- stubs --check
    cargo clippy --quiet --workspace --all-targets -- -D warnings
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

# Make each catalogued learner mistake (lessons/NN-name/mistakes.toml) in a
# scratch copy, and prove a check catches it and names the fix: `just mutants 4`; all without N.
mutants *LESSONS:
    @cargo run --quiet -p nslab-checker -- mutants "$@"

# Maintainers: cargo-mutants' mutants of lesson N's solution (those inside the
# exercises), each built in the scratch copy and run against every check of
# the lesson; what none catches is a candidate for lessons/NN-name/mistakes.toml.
# Slow (minutes per lesson): not part of `just test`.
mutants-explore N:
    @command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants@27.1.0
    @cargo run --quiet -p nslab-checker -- mutants-explore {{N}}

# Serve the book on port 3000; in a VM, `just book 0.0.0.0` to read it from your host.
# The first time, it installs mdbook (setup.sh leaves it out of a
# learner's first three minutes).
[no-exit-message]
book ADDRESS="127.0.0.1":
    @command -v mdbook >/dev/null || bash setup.sh --book
    mdbook serve book --hostname {{ADDRESS}} --port 3000

# Build the book and check its links (never web links: CI stays offline).
book-check:
    @command -v mdbook-linkcheck2 >/dev/null || { echo "mdbook-linkcheck2 is missing: run bash setup.sh --maintainer" >&2; exit 1; }
    mdbook build book

# Render the book's introduction and a lesson in headless Chromium to PNG
# (target/book-screenshots/) and check them; installs chromium the first time.
book-screenshots:
    bash book/screenshots.sh

# Is this machine ready for the course?
[no-exit-message]
doctor:
    @cargo run --quiet -p nslab-checker -- doctor

# How long a new learner waits: a clean clone, `bash setup.sh && just lesson 0`
# with nothing built and none of the course's tools, then a second setup.sh.
setup-time:
    .ci/setup-time

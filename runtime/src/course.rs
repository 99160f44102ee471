//! The course manifest: every lesson, once, in order. Everything else that
//! needs the list of lessons derives from [`LESSONS`]: the flags each
//! binary accepts ([`crate::cli`]), the composed binaries and their names
//! ([`Binary`]), the checker's course and the checks' choice of binary.
//! What cannot be derived (a crate's dependency in Cargo.toml, a file in
//! `src/bin/`, a row of the composition table in `src/lib.rs`) is held to
//! this list by tests that name exactly what is missing.
//!
//! Adding a lesson starts with one entry here; ARCHITECTURE.md's "Adding
//! a lesson" lists the rest.

use std::fmt;
use std::path::{Path, PathBuf};

/// One lesson of the course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lesson {
    /// Its number: its index in [`LESSONS`].
    pub number: u8,
    /// The short name in its directories and chapter, `mount` in
    /// `lessons/04-mount`.
    pub slug: &'static str,
    /// The kernel namespace it gives the container, as `/proc/PID/ns/`
    /// names it; `None` for a lesson that adds no namespace of its own.
    pub namespace: Option<&'static str>,
    /// The chapter's title, also the first line of `just lesson N`.
    pub title: &'static str,
    /// The flags and subcommands it brings, by clap id (`uid_map` for
    /// `--uid-map`). A binary from an earlier lesson refuses them by name.
    pub introduces: &'static [&'static str],
    /// The contracts its crate implements, in the order the core uses them.
    pub adds: &'static [Part],
}

/// A contract of the core that a lesson's crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// [`crate::Process`]: clone, exec, wait, exit status (lesson 00).
    Process,
    /// [`crate::Namespace`]: one kernel namespace.
    Namespace,
    /// [`crate::Join`]: the way into a running container (`exec`).
    Join,
    /// [`crate::oci::Oci`]: the OCI runtime interface's decisions (lesson
    /// 11): what a bundle means, and the life cycle.
    Oci,
}

/// The course, in order; a lesson's number is its index.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        number: 0,
        slug: "clone",
        namespace: None,
        title: "The container is a child process",
        introduces: &[],
        adds: &[Part::Process],
    },
    Lesson {
        number: 1,
        slug: "uts",
        namespace: Some("uts"),
        title: "A hostname of its own",
        introduces: &["hostname", "domainname"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 2,
        slug: "ipc",
        namespace: Some("ipc"),
        title: "System V IPC objects of its own",
        introduces: &[],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 3,
        slug: "pid",
        namespace: Some("pid"),
        title: "Process ids of its own, and a real PID 1",
        introduces: &["init"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 4,
        slug: "mount",
        namespace: Some("mnt"),
        title: "Mounts of its own, a fresh /proc, and a root filesystem",
        introduces: &["rootfs", "volume", "read_only"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 5,
        slug: "user",
        namespace: Some("user"),
        title: "Root inside, nobody outside",
        introduces: &["uid_map", "gid_map"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 6,
        slug: "net",
        namespace: Some("net"),
        title: "A network of its own: loopback, a bridge, veth pairs and NAT",
        introduces: &["net", "subnet", "nat"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 7,
        slug: "join",
        namespace: None,
        title: "See a container's namespaces, enter it, keep a namespace alive",
        introduces: &["name", "keep_net", "ps", "ns", "exec"],
        adds: &[Part::Namespace, Part::Join],
    },
    Lesson {
        number: 8,
        slug: "cgroup",
        namespace: Some("cgroup"),
        title: "Limits a container cannot escape, and a cgroup namespace",
        introduces: &["memory", "pids_limit", "cpus"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 9,
        slug: "time",
        namespace: Some("time"),
        title: "Clocks of its own: a time namespace, and why clone(2) cannot make one",
        introduces: &["uptime"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 10,
        slug: "harden",
        namespace: None,
        title: "Close the kernel's dangerous doors: capabilities, no_new_privs, seccomp, masked paths",
        introduces: &["cap_add", "cap_drop", "seccomp"],
        adds: &[Part::Namespace],
    },
    Lesson {
        number: 11,
        slug: "oci",
        namespace: None,
        title: "Podman runs your runtime: the OCI runtime interface",
        introduces: &[],
        adds: &[Part::Oci],
    },
];

/// The highest lesson number.
pub const LAST_LESSON: u8 = LESSONS[LESSONS.len() - 1].number;

// A lesson's number is its index: checked when the crate compiles.
const _: () = {
    let mut index = 0;
    while index < LESSONS.len() {
        assert!(LESSONS[index].number as usize == index);
        index += 1;
    }
};

impl Lesson {
    /// Lesson `number`, if the course has it.
    pub fn get(number: u8) -> Option<&'static Lesson> {
        LESSONS.get(usize::from(number))
    }

    /// `04-mount`: the name of its directories and of its chapter.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The lessons up to and including this one.
    pub fn so_far(&self) -> &'static [Lesson] {
        &LESSONS[..=usize::from(self.number)]
    }
}

impl fmt::Display for Lesson {
    /// "lesson 04 (mount)", for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lesson {:02} ({})", self.number, self.slug)
    }
}

/// "lesson 04 (mount)", for messages; any number is accepted.
pub fn describe_lesson(number: u8) -> String {
    match Lesson::get(number) {
        Some(lesson) => lesson.to_string(),
        None => format!("lesson {number:02} (?)"),
    }
}

/// Whose code a composed binary runs for its lessons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `lesson-NN`: the reference solutions below NN plus the learner's
    /// lesson NN, so every lesson starts from a working container.
    Exercise,
    /// `solution-NN`: the reference solutions up to NN.
    Solution,
    /// `mine-NN`: the learner's own lessons 00 to NN, no solution code.
    Mine,
}

impl Flavour {
    pub const ALL: [Flavour; 3] = [Flavour::Exercise, Flavour::Solution, Flavour::Mine];

    /// The first word of its binaries' names.
    pub fn prefix(self) -> &'static str {
        match self {
            Flavour::Exercise => "lesson",
            Flavour::Solution => "solution",
            Flavour::Mine => "mine",
        }
    }

    /// The cargo package that builds its binaries. `mine-NN` have one of
    /// their own, so that building the checks (which builds every binary
    /// of the root package) does not link them too.
    pub fn package(self) -> &'static str {
        match self {
            Flavour::Exercise | Flavour::Solution => "nslab",
            Flavour::Mine => "nslab-mine",
        }
    }

    /// Where its binaries' source files are, from the repository's top.
    pub fn bin_dir(self) -> &'static str {
        match self {
            Flavour::Exercise | Flavour::Solution => "src/bin",
            Flavour::Mine => "mine/src/bin",
        }
    }
}

/// Whose code runs for one lesson in a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The learner's `lessons/NN-name`.
    Exercise,
    /// The reference `solutions/NN-name`.
    Solution,
}

/// One composed binary of the course, e.g. `lesson-04`: a flavour and the
/// highest lesson compiled in. Its name is the only place the `NN` format
/// is written; [`Binary::parse`] reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    pub flavour: Flavour,
    /// The highest lesson compiled in.
    pub level: u8,
}

impl Binary {
    pub const fn new(flavour: Flavour, level: u8) -> Binary {
        Binary { flavour, level }
    }

    /// The binary's file name, e.g. `lesson-04`.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// The binary called `name` (`mine-07`), if the course builds it.
    pub fn parse(name: &str) -> Option<Binary> {
        let (prefix, number) = name.split_once('-')?;
        let flavour = Flavour::ALL.into_iter().find(|f| f.prefix() == prefix)?;
        if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let level = number.parse().ok()?;
        Lesson::get(level).map(|_| Binary { flavour, level })
    }

    /// Every binary the course builds, flavour by flavour, in lesson order.
    pub fn all() -> impl Iterator<Item = Binary> {
        Flavour::ALL.into_iter().flat_map(|flavour| {
            LESSONS
                .iter()
                .map(move |lesson| Binary::new(flavour, lesson.number))
        })
    }

    /// Where cargo puts it, given cargo's output directory (`target/debug`).
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }

    /// Whose code it runs for `lesson`: the learner's for every lesson of
    /// a `mine` binary and for its own lesson of an exercise, else the
    /// reference solution's.
    pub fn source(&self, lesson: u8) -> Source {
        match self.flavour {
            Flavour::Mine => Source::Exercise,
            Flavour::Exercise if lesson == self.level => Source::Exercise,
            Flavour::Exercise | Flavour::Solution => Source::Solution,
        }
    }

    /// Whether one of its lessons brings the flag or subcommand `id` (a
    /// clap id, as in [`Lesson::introduces`]).
    pub fn has_flag(&self, id: &str) -> bool {
        LESSONS
            .iter()
            .take(usize::from(self.level) + 1)
            .any(|lesson| lesson.introduces.contains(&id))
    }

    /// The same lessons, another flavour.
    pub fn with_flavour(&self, flavour: Flavour) -> Binary {
        Binary::new(flavour, self.level)
    }
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.flavour.prefix(), self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_name_parses_back_to_its_binary() {
        for binary in Binary::all() {
            assert_eq!(Binary::parse(&binary.name()), Some(binary));
        }
        assert_eq!(
            Binary::all().count(),
            Flavour::ALL.len() * LESSONS.len(),
            "one binary per flavour and lesson"
        );
        assert_eq!(
            Binary::parse("mine-07"),
            Some(Binary::new(Flavour::Mine, 7))
        );
        for not_a_binary in [
            "lesson-7",
            "lesson-99",
            "yours-01",
            "solution",
            "-01",
            "lesson-+1",
        ] {
            assert_eq!(Binary::parse(not_a_binary), None, "{not_a_binary}");
        }
    }

    #[test]
    fn a_lesson_binary_takes_only_its_own_lesson_from_the_learner_and_mine_takes_all() {
        let exercise = Binary::new(Flavour::Exercise, 3);
        assert_eq!(exercise.source(3), Source::Exercise);
        assert_eq!(exercise.source(2), Source::Solution);
        assert_eq!(
            Binary::new(Flavour::Solution, 3).source(3),
            Source::Solution
        );
        let mine = Binary::new(Flavour::Mine, 3);
        assert!((0..=3).all(|lesson| mine.source(lesson) == Source::Exercise));
    }

    #[test]
    fn no_flag_is_introduced_twice() {
        let mut ids: Vec<&str> = LESSONS.iter().flat_map(|l| l.introduces).copied().collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "a flag belongs to one lesson");
    }

    #[test]
    fn lesson_00_is_the_process_and_every_later_lesson_plugs_in_after_it() {
        assert_eq!(LESSONS[0].adds, [Part::Process]);
        for lesson in &LESSONS[1..] {
            assert!(!lesson.adds.contains(&Part::Process), "{lesson}");
            assert!(!lesson.adds.is_empty(), "{lesson} adds nothing");
        }
        assert_eq!(describe_lesson(4), "lesson 04 (mount)");
        assert_eq!(Lesson::get(4).unwrap().dir_name(), "04-mount");
    }
}

//! System V IPC objects on the host, made and removed with the real
//! util-linux tools (`ipcmk`, `ipcrm`). Whatever a check creates on the
//! host is removed when the check ends, even when it fails; checks that
//! use this are `#[file_serial(host)]`.

use std::fmt;

use super::Outcome;

/// The three kinds of System V IPC object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Queue,
    SharedMemory,
    Semaphores,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Queue, Kind::SharedMemory, Kind::Semaphores];

    /// What `ipcmk` needs to make one (a 4 KiB segment, a set of one
    /// semaphore).
    fn ipcmk_args(self) -> &'static [&'static str] {
        match self {
            Kind::Queue => &["-Q"],
            Kind::SharedMemory => &["-M", "4096"],
            Kind::Semaphores => &["-S", "1"],
        }
    }

    /// The flag that selects this kind for `ipcs` and, by id, `ipcrm`.
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Queue => "-q",
            Kind::SharedMemory => "-m",
            Kind::Semaphores => "-s",
        }
    }

    /// The kernel's table of this kind, for the namespace of the reader.
    fn proc_file(self) -> &'static str {
        match self {
            Kind::Queue => "/proc/sysvipc/msg",
            Kind::SharedMemory => "/proc/sysvipc/shm",
            Kind::Semaphores => "/proc/sysvipc/sem",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Queue => "message queue",
            Kind::SharedMemory => "shared memory segment",
            Kind::Semaphores => "semaphore set",
        })
    }
}

/// An object as `ipcs` shows it: its key (`0x` and 8 hex digits) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    pub key: String,
    pub id: i32,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (key {}, id {})", self.kind, self.key, self.id)
    }
}

/// The host's objects of one kind, from the kernel's own table.
pub fn host_objects(kind: Kind) -> Vec<Object> {
    let table = std::fs::read_to_string(kind.proc_file())
        .unwrap_or_else(|e| panic!("read {}: {e}", kind.proc_file()));
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            // The table has the key in decimal; `ipcs` shows it in hex.
            let key: i32 = fields.next()?.parse().ok()?;
            let id = fields.next()?.parse().ok()?;
            Some(Object {
                kind,
                key: format!("{:#010x}", key as u32),
                id,
            })
        })
        .collect()
}

/// A list of objects for a failure message, e.g. `none` or
/// `message queue (key 0x1c2b3a4d, id 3)`.
pub fn describe(objects: &[Object]) -> String {
    if objects.is_empty() {
        return "none".to_string();
    }
    objects
        .iter()
        .map(Object::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys in an `ipcs` listing (the lines that start with `0x`).
pub fn keys_listed(ipcs_output: &str) -> Vec<String> {
    ipcs_output
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("0x"))
        .map(str::to_string)
        .collect()
}

/// An object this check made on the host with `ipcmk` (which picks a
/// random key); `ipcrm` removes it when the check ends, however it ends.
pub struct HostObject(pub Object);

impl HostObject {
    pub fn create(kind: Kind) -> HostObject {
        let made = Outcome::of_host_command("ipcmk", kind.ipcmk_args());
        made.expect_success();
        // "Message queue id: 3", "Shared memory id: 4", "Semaphore id: 5"
        let id: i32 = made
            .stdout
            .split_whitespace()
            .last()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| made.fail("should print the new object's id"));
        let object = host_objects(kind)
            .into_iter()
            .find(|object| object.id == id)
            .unwrap_or_else(|| {
                made.fail(&format!("made {kind} {id}, which the kernel does not list"))
            });
        HostObject(object)
    }

    /// Whether the host still has this very object.
    pub fn is_on_the_host(&self) -> bool {
        host_objects(self.0.kind).contains(&self.0)
    }
}

impl Drop for HostObject {
    fn drop(&mut self) {
        if self.is_on_the_host() {
            let id = self.0.id.to_string();
            let _ = Outcome::of_host_command("ipcrm", &[self.0.kind.flag(), &id]);
        }
    }
}

/// A key that a broken container might create on the host instead of in
/// its own namespace: if the host has an object with it when the check
/// ends, it is removed, so one failed check does not fail the next ones.
pub struct RemoveIfLeaked {
    pub kind: Kind,
    pub key: String,
    /// The objects the host had before, which are never touched.
    pub before: Vec<Object>,
}

impl Drop for RemoveIfLeaked {
    fn drop(&mut self) {
        for object in host_objects(self.kind) {
            if object.key == self.key && !self.before.contains(&object) {
                let id = object.id.to_string();
                let _ = Outcome::of_host_command("ipcrm", &[self.kind.flag(), &id]);
            }
        }
    }
}

//! Lesson 02: IPC.
//!
//! System V message queues, shared memory segments and semaphore sets are
//! found by numbers, keys and ids, that every process on the machine
//! shares. A container with an IPC namespace of its own starts with empty
//! tables: it can neither see nor remove the host's objects, the host
//! never sees the objects it makes, and those die with the namespace.
//! POSIX message queues are isolated the same way.

use nslab_runtime::{CloneFlags, Namespace};

pub struct IpcNamespace;

impl Namespace for IpcNamespace {
    // ANCHOR: clone_flags
    /// A new IPC namespace starts empty, with the kernel's default limits,
    /// so there is nothing to set up inside it: `in_child` keeps the
    /// trait's default.
    fn clone_flags(&self) -> CloneFlags {
        // Book: chapter 02, "Exercise: clone_flags". The child must get an IPC
        // namespace of its own: System V message queues, semaphores and shared
        // memory, and POSIX message queues that the host's processes cannot
        // see, and that cannot see the host's.
        todo!("which clone flag creates an IPC namespace?")
    }
    // ANCHOR_END: clone_flags
}

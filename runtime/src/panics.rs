//! Unfinished lesson code panics at a `todo!()`. Instead of a panic's
//! three lines and a backtrace note, the runtime turns it into one error
//! line that says where the `todo!()` is, with exit status 101.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

use crate::error::{Error, LESSON_PANICKED, Result};
use crate::transcript;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Remember each panic's message and place; print it only when no
/// [`lesson_code`] call is going to report it.
pub fn install_hook() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let line = format!("{message}{place}");
        if !CATCHING.get() {
            eprintln!("panicked: {line}");
        }
        LAST_PANIC.set(Some(line));
    }));
}

/// Run lesson code; a panic in it becomes an [`Error`] with status 101.
pub fn lesson_code<T>(call: impl FnOnce() -> Result<T>) -> Result<T> {
    let was_catching = CATCHING.replace(true);
    let outcome = panic::catch_unwind(AssertUnwindSafe(call));
    CATCHING.set(was_catching);
    outcome.unwrap_or_else(|_| {
        let line = LAST_PANIC.take().unwrap_or_else(|| "panic".to_string());
        let error = if line.starts_with("not yet implemented") {
            Error::new("lesson code reached a todo!()")
                .because(line)
                .fix("write that part; its comment names the book section")
        } else {
            Error::new("lesson code panicked")
                .because(line)
                .fix("read the message; the book's pitfalls section may help")
        };
        Err(error.with_status(LESSON_PANICKED))
    })
}

// ANCHOR: exit_after
/// Run lesson code that has taken this process over for good and will
/// never return to the core (lesson 03's init), then `_exit` with the
/// status it returns.
///
/// Such code has closed the pipe that carries errors to the parent, so a
/// panic in it (a `todo!()`) is reported here, on stderr, as the one line
/// the core would have printed, with status 101.
pub fn exit_after(body: impl FnOnce() -> i32) -> ! {
    let status = match lesson_code(|| Ok(body())) {
        Ok(status) => status,
        Err(error) => {
            transcript::notice(format_args!("{error}"));
            error.status().into()
        }
    };
    // SAFETY: _exit(2) ends the process at once and takes an integer. We
    // use it, not exit(3), because this is a forked copy of the runtime:
    // exit handlers and buffers belong to the original.
    unsafe { libc::_exit(status) }
}
// ANCHOR_END: exit_after

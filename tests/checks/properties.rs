//! Property tests of the reference solutions' own validation (the core's
//! parsers have theirs in runtime/tests/parsers.rs). Unprivileged.

use nslab_runtime::{Config, Namespace};
use proptest::prelude::*;
use solution_01_uts::{MAX_NAME_LEN, UtsNamespace};

proptest! {
    /// Any hostname and domain name of 1 to 64 bytes is taken, anything
    /// else refused in one line that names the flag: the kernel's limit
    /// is in bytes, so multibyte characters must count as bytes.
    #[test]
    fn names_are_taken_exactly_when_they_have_1_to_64_bytes(
        hostname in "\\PC{0,40}", domainname in proptest::option::of("\\PC{0,40}"),
    ) {
        let config = Config { hostname: hostname.clone(), domainname: domainname.clone(), ..Config::default() };
        let fits = |name: &str| (1..=MAX_NAME_LEN).contains(&name.len());
        let acceptable = fits(&hostname) && domainname.as_deref().is_none_or(fits);
        match UtsNamespace.validate(&config) {
            Ok(()) => prop_assert!(acceptable),
            Err(error) => {
                prop_assert!(!acceptable);
                let line = error.to_string();
                prop_assert!(!line.contains('\n'));
                prop_assert!(line.contains("--hostname") || line.contains("--domainname"), "{line}");
            }
        }
    }
}

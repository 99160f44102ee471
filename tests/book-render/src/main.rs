//! `nslab-book-render`: was the book rendered, and does it show?
//!
//! `book/screenshots.sh` (`just book-screenshots`) builds the book and has
//! headless Chromium render some pages to PNG. This checks the result:
//!
//! ```text
//! nslab-book-render PAGE.html SHOT.png [PAGE.html SHOT.png ...]
//! ```
//!
//! For each page: every image it refers to exists, and its main text is
//! not empty; and its screenshot is a real picture, not missing, tiny or
//! one flat colour (what a blank or failed render looks like).

use std::path::Path;
use std::process::ExitCode;

mod html;
mod screenshot;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || !args.len().is_multiple_of(2) {
        eprintln!("usage: nslab-book-render PAGE.html SHOT.png [PAGE.html SHOT.png ...]");
        return ExitCode::from(2);
    }
    let mut all_good = true;
    for pair in args.chunks(2) {
        let (page, shot) = (Path::new(&pair[0]), Path::new(&pair[1]));
        all_good &= report(page, html::check(page));
        all_good &= report(shot, screenshot::check(shot));
    }
    if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One line per file; true if it is good.
fn report(path: &Path, result: Result<String, String>) -> bool {
    match &result {
        Ok(summary) => println!("ok    {}: {summary}", path.display()),
        Err(problem) => println!("FAIL  {}: {problem}", path.display()),
    }
    result.is_ok()
}

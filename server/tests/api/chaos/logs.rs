//! What the server processes logged during a run (warnings and errors),
//! grouped and counted, so a run's figures show how the server saw the
//! chaos (a publish that failed, a gap filled, a database error) and a
//! failure can be diagnosed from the test's output alone.

use std::collections::BTreeMap;
use std::path::Path;

/// Most distinct lines printed per process.
const MOST: usize = 12;
/// Characters of a line kept (the rest is cut).
const WIDTH: usize = 240;

/// Prints each process's warnings and errors, alike ones counted together.
pub fn print(label: &str, files: &[std::path::PathBuf]) {
    for (index, file) in files.iter().enumerate() {
        let groups = summarize(file);
        let total: usize = groups.values().sum();
        eprintln!("chaos ({label}): process {index} logged {total} warnings and errors");
        let mut sorted: Vec<(&String, &usize)> = groups.iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (line, count) in sorted.into_iter().take(MOST) {
            eprintln!("    {count:>5} × {line}");
        }
    }
}

/// The warning and error lines of `file`, without their time stamps, with
/// numbers and ids masked, cut at [`WIDTH`]: line → count.
fn summarize(file: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut groups = BTreeMap::new();
    for line in text.lines() {
        let Some(at) = [" WARN ", " ERROR "]
            .iter()
            .filter_map(|level| line.find(level))
            .min()
        else {
            continue;
        };
        let mut key = mask(line[at..].trim_start());
        if key.chars().count() > WIDTH {
            key = key.chars().take(WIDTH).collect::<String>() + "…";
        }
        *groups.entry(key).or_insert(0) += 1;
    }
    groups
}

/// `text` with every run of digits and hex letters that holds a digit (a
/// number, a uuid, a duration) written `#`.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() || (c == '-' && !run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

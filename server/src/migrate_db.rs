//! `server migrate-db --from sqlite://… --to postgres://… [--force]
//! [--batch N]`: copies a SQLite deployment into PostgreSQL
//! ([`services::store::migrate`]), printing its progress; run again after
//! an interruption to resume.

use std::ops::ControlFlow;
use std::process::ExitCode;

use services::store::migrate::{sqlite_to_postgres, MigrateOptions, Progress};

const USAGE: &str = "usage: server migrate-db --from sqlite://data/chatsphere.db \
--to postgres://user@host/db [--force] [--batch 1000]
Stop every server process first. The target must be empty (--force empties it); \
an interrupted run resumes when run again.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    from: String,
    to: String,
    options: MigrateOptions,
}

/// Reads the arguments after `migrate-db`.
fn parse(args: &[String]) -> Result<Args, String> {
    let (mut from, mut to) = (None, None);
    let mut options = MigrateOptions::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--from" => from = Some(value("--from")?),
            "--to" => to = Some(value("--to")?),
            "--force" => options.force = true,
            "--batch" => {
                options.batch = value("--batch")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("--batch takes a number from 1 to 10000")?
            }
            other => {
                return Err(format!(
                    "unknown argument {:?}",
                    other.chars().take(40).collect::<String>()
                ))
            }
        }
    }
    let from = from.ok_or("--from is required")?;
    let to = to.ok_or("--to is required")?;
    if !from.starts_with("sqlite:") {
        return Err("--from must be a sqlite:// URL".into());
    }
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err("--to must be a postgres:// URL".into());
    }
    Ok(Args { from, to, options })
}

/// Runs the command; its exit code (2: bad arguments).
pub fn run(args: &[String]) -> ExitCode {
    let args = match parse(args) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("migrate-db: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("migrate-db: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let show = |step: &Progress| {
        match step {
            Progress::Resuming => eprintln!("resuming the copy an earlier run began"),
            Progress::Copied { table, done, total } => eprintln!("{table}: {done}/{total}"),
            Progress::Indexed(n) => eprintln!("search index: {n} messages"),
        }
        ControlFlow::Continue(())
    };
    match runtime.block_on(sqlite_to_postgres(&args.from, &args.to, args.options, show)) {
        Ok(report) => {
            let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
            println!(
                "migrated {rows} rows in {} tables; verified: every table's row count and {} \
                 conversations' last sequence numbers match",
                report.tables.len(),
                report.conversations
            );
            println!("now start the server with DATABASE_URL set to the PostgreSQL URL");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("migrate-db: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_arguments_are_read_and_checked() {
        let read = args(&[
            "--from",
            "sqlite://a.db",
            "--to",
            "postgres://h/db",
            "--force",
            "--batch",
            "50",
        ])
        .unwrap();
        assert_eq!(read.from, "sqlite://a.db");
        assert_eq!(
            read.options,
            MigrateOptions {
                batch: 50,
                force: true
            }
        );
        assert!(args(&["--to", "postgres://h/db"]).is_err());
        assert!(args(&["--from", "sqlite://a.db"]).is_err());
        assert!(args(&["--from", "postgres://x", "--to", "postgres://h/db"]).is_err());
        assert!(args(&["--from", "sqlite://a.db", "--to", "mysql://h/db"]).is_err());
        assert!(args(&[
            "--from",
            "sqlite://a.db",
            "--to",
            "postgres://h/db",
            "--batch",
            "0"
        ])
        .is_err());
        assert!(args(&["--from"]).is_err());
        assert!(args(&["--frm", "x"]).is_err());
    }
}

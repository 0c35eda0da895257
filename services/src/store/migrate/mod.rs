//! Moving a deployment from SQLite to PostgreSQL (`server migrate-db`).
//!
//! - Both databases are first brought to this version's schema (as
//!   starting the server would).
//! - Every table the two share is copied with its ids, sequence numbers,
//!   receipts, sessions and audit log as they are, parents before children
//!   (the target's foreign keys say which), in batches ordered by SQLite's
//!   `rowid`. Each batch and the note of how far its table got are one
//!   transaction, so an interrupted copy resumes where it stopped.
//! - A target that already holds data is refused unless forced (it is then
//!   emptied first); a run that was interrupted is a resume, not data.
//! - The search index is computed on the target ([`SearchStore::index_pending`]).
//! - Then it verifies: every table's row count, and each conversation's last
//!   sequence number (as the conversation records it, and as its messages
//!   reach), the same on both sides.
//!
//! The server must be stopped meanwhile: what is written during the copy
//! may be missed.

mod values;

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use sqlx::{PgPool, Row, SqlitePool};
use uuid::Uuid;

use super::{PgStore, SearchStore, SqliteStore, StoreError};
use values::{ident, Kind, Value};

/// Where the copy notes its progress, on the target.
const PROGRESS: &str = "chatsphere_migrate_progress";
/// Most placeholders in one PostgreSQL statement.
const MAX_BINDS: usize = 65_535;

/// How to migrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrateOptions {
    /// Rows per batch (each a transaction on the target).
    pub batch: u32,
    /// Empty a target that holds data instead of refusing it.
    pub force: bool,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            batch: 1000,
            force: false,
        }
    }
}

/// What the copy reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A copy interrupted earlier continues.
    Resuming,
    /// A table's rows copied so far, of all.
    Copied {
        /// The table.
        table: String,
        /// Rows copied.
        done: u64,
        /// Rows in the source.
        total: u64,
    },
    /// Messages indexed for search on the target so far.
    Indexed(u64),
}

/// Why a migration stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A database could not be opened or read.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A statement failed.
    #[error("{0}")]
    Sql(#[from] sqlx::Error),
    /// The SQLite file does not exist.
    #[error("no SQLite database at {0}")]
    NoSource(String),
    /// The target holds data, and the run was not forced.
    #[error("the target database is not empty (table {0} has rows): migrate into an empty database, or pass --force to empty it first")]
    NotEmpty(String),
    /// A column of a type the copy does not know.
    #[error("column {0} has a type this version cannot copy")]
    Unsupported(String),
    /// Stopped by the caller after a batch (the next run resumes).
    #[error("interrupted; run again to resume")]
    Interrupted,
    /// The copy differs from its source.
    #[error("verification failed: {}; run again with --force to copy everything anew", .0.join("; "))]
    Mismatch(Vec<String>),
}

/// What a finished migration found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Each table and its rows, in copy order.
    pub tables: Vec<(String, u64)>,
    /// Conversations whose last sequence number was compared.
    pub conversations: u64,
}

/// One table to copy.
#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
}

/// Copies the SQLite database at `from` into the PostgreSQL database at
/// `to`; `progress` hears of each step and may stop the copy after any
/// (it then resumes on the next run).
pub async fn sqlite_to_postgres(
    from: &str,
    to: &str,
    options: MigrateOptions,
    mut progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Report, MigrateError> {
    // Opening creates a missing file: a mistyped path must not "migrate"
    // an empty database.
    let file = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(from)
        .map_err(StoreError::from)?
        .get_filename()
        .to_owned();
    if !file.is_file() {
        return Err(MigrateError::NoSource(file.display().to_string()));
    }
    let source = SqliteStore::connect(from).await?;
    let target = PgStore::connect(to).await?;
    let (src, dst) = (source.reader(), target.pool());
    let tables = plan(src, dst).await?;

    let mut resuming = sqlx::query_scalar::<_, Option<String>>("select to_regclass($1)::text")
        .bind(PROGRESS)
        .fetch_one(dst)
        .await?
        .is_some();
    if resuming && options.force {
        // Forced: start again from nothing.
        sqlx::query(&format!("drop table {PROGRESS}"))
            .execute(dst)
            .await?;
        resuming = false;
    }
    if resuming {
        if progress(&Progress::Resuming).is_break() {
            return Err(MigrateError::Interrupted);
        }
    } else {
        let mut tx = dst.begin().await?;
        match first_with_rows(dst, &tables).await? {
            Some(full) if !options.force => return Err(MigrateError::NotEmpty(full)),
            Some(_) => {
                let all: Vec<String> = tables.iter().map(|t| ident(&t.name)).collect();
                sqlx::query(&format!("truncate {} cascade", all.join(", ")))
                    .execute(&mut *tx)
                    .await?;
            }
            // Only the rooms the schema seeds, which the source has too
            // (with their members and messages).
            None => {
                sqlx::query("delete from conversations where created_by is null and kind = 'room'")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(&format!(
            "create table {PROGRESS} (table_name text primary key, last_rowid bigint not null, \
             copied bigint not null, done boolean not null default false)"
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }

    let mut counts = Vec::with_capacity(tables.len());
    for table in &tables {
        let total = copy(src, dst, table, options.batch, &mut progress).await?;
        counts.push((table.name.clone(), total));
    }
    let mut indexed = 0;
    loop {
        let done = target.index_pending(500).await?;
        if done == 0 {
            break;
        }
        indexed += done;
        if progress(&Progress::Indexed(indexed)).is_break() {
            return Err(MigrateError::Interrupted);
        }
    }
    let conversations = verify(src, dst, &tables).await?;
    sqlx::query(&format!("drop table {PROGRESS}"))
        .execute(dst)
        .await?;
    Ok(Report {
        tables: counts,
        conversations,
    })
}

/// The tables both databases have, parents first, with the columns both
/// have (typed as the target has them).
async fn plan(src: &SqlitePool, dst: &PgPool) -> Result<Vec<Table>, MigrateError> {
    let rows = sqlx::query(
        "select c.table_name::text as t, c.column_name::text as c, c.data_type::text as d \
         from information_schema.columns c join information_schema.tables t \
           on t.table_schema = c.table_schema and t.table_name = c.table_name \
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' \
           and c.table_name not in ($1, '_sqlx_migrations') \
         order by c.table_name, c.ordinal_position",
    )
    .bind(PROGRESS)
    .fetch_all(dst)
    .await?;
    let mut target: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in &rows {
        target
            .entry(row.try_get("t")?)
            .or_default()
            .push((row.try_get("c")?, row.try_get("d")?));
    }
    let mut tables = BTreeMap::new();
    for (name, columns) in target {
        let present: Vec<String> = sqlx::query_scalar("select name from pragma_table_info(?)")
            .bind(&name)
            .fetch_all(src)
            .await?;
        if present.is_empty() {
            continue;
        }
        let mut copied = Vec::new();
        for (column, data_type) in columns {
            let kind = Kind::of(&data_type)
                .map_err(|_| MigrateError::Unsupported(format!("{name}.{column} ({data_type})")))?;
            if let Some(kind) = kind.filter(|_| present.contains(&column)) {
                copied.push((column, kind));
            }
        }
        tables.insert(name.clone(), copied);
    }
    let edges = sqlx::query(
        "select child.relname::text as child, parent.relname::text as parent from pg_constraint k \
         join pg_class child on child.oid = k.conrelid join pg_class parent on parent.oid = k.confrelid \
         join pg_namespace n on n.oid = child.relnamespace \
         where k.contype = 'f' and n.nspname = current_schema()",
    )
    .fetch_all(dst)
    .await?;
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for edge in &edges {
        let (child, parent): (String, String) = (edge.try_get("child")?, edge.try_get("parent")?);
        if child != parent {
            parents.entry(child).or_default().push(parent);
        }
    }
    // Parents before children; a table waits until all its parents are in.
    let mut ordered = Vec::with_capacity(tables.len());
    let mut left: Vec<String> = tables.keys().cloned().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            parents.get(t).is_none_or(|ps| {
                ps.iter().all(|p| {
                    !tables.contains_key(p) || ordered.iter().any(|o: &Table| o.name == *p)
                })
            })
        });
        // A cycle (none in the schema today): the rest in name order.
        let next = left.remove(ready.unwrap_or(0));
        let columns = tables.remove(&next).unwrap_or_default();
        ordered.push(Table {
            name: next,
            columns,
        });
    }
    Ok(ordered)
}

/// The first of `tables` that holds data on the target (the rooms the
/// schema seeds, which nobody created, are not data).
async fn first_with_rows(dst: &PgPool, tables: &[Table]) -> Result<Option<String>, sqlx::Error> {
    for table in tables {
        let seeded = if table.name == "conversations" {
            " where created_by is not null or kind <> 'room'"
        } else {
            ""
        };
        let any: bool = sqlx::query_scalar(&format!(
            "select exists (select 1 from {}{seeded})",
            ident(&table.name)
        ))
        .fetch_one(dst)
        .await?;
        if any {
            return Ok(Some(table.name.clone()));
        }
    }
    Ok(None)
}

/// Copies one table from where an earlier run left it; its row count.
async fn copy(
    src: &SqlitePool,
    dst: &PgPool,
    table: &Table,
    batch: u32,
    progress: &mut impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<u64, MigrateError> {
    let total: i64 = sqlx::query_scalar(&format!("select count(*) from {}", ident(&table.name)))
        .fetch_one(src)
        .await?;
    let total = u64::try_from(total).unwrap_or(0);
    let noted = sqlx::query(&format!(
        "select last_rowid, copied, done from {PROGRESS} where table_name = $1"
    ))
    .bind(&table.name)
    .fetch_optional(dst)
    .await?;
    let (mut last, mut copied) = match &noted {
        Some(row) if row.try_get::<bool, _>("done")? => return Ok(total),
        Some(row) => (
            row.try_get::<i64, _>("last_rowid")?,
            row.try_get::<i64, _>("copied")?,
        ),
        None => (i64::MIN, 0),
    };
    let width = table.columns.len().max(1);
    let batch = (batch.max(1) as usize).min(MAX_BINDS / width);
    let names: Vec<String> = table.columns.iter().map(|(c, _)| ident(c)).collect();
    let select = format!(
        "select rowid as \"rowid\", {} from {} where rowid > ? order by rowid limit ?",
        names.join(", "),
        ident(&table.name)
    );
    loop {
        let rows = sqlx::query(&select)
            .bind(last)
            .bind(batch as i64)
            .fetch_all(src)
            .await?;
        let Some(tail) = rows.last() else { break };
        last = tail.try_get("rowid")?;
        let mut values = Vec::with_capacity(rows.len() * width);
        let mut tuples = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut tuple = Vec::with_capacity(width);
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                values.push(Value::read(row, i + 1, *kind)?);
                tuple.push(format!("${}::{}", values.len(), kind.cast()));
            }
            tuples.push(format!("({})", tuple.join(", ")));
        }
        let insert = format!(
            "insert into {} ({}) values {}",
            ident(&table.name),
            names.join(", "),
            tuples.join(", ")
        );
        copied += rows.len() as i64;
        let mut tx = dst.begin().await?;
        let mut query = sqlx::query(&insert);
        for value in values {
            query = value.bind(query);
        }
        query.execute(&mut *tx).await?;
        note(&mut tx, &table.name, last, copied, false).await?;
        tx.commit().await?;
        let step = Progress::Copied {
            table: table.name.clone(),
            done: u64::try_from(copied).unwrap_or(0),
            total,
        };
        if progress(&step).is_break() {
            return Err(MigrateError::Interrupted);
        }
    }
    let mut tx = dst.begin().await?;
    note(&mut tx, &table.name, last, copied, true).await?;
    tx.commit().await?;
    if noted.is_none() && copied == 0 {
        let _ = progress(&Progress::Copied {
            table: table.name.clone(),
            done: 0,
            total,
        });
    }
    Ok(u64::try_from(copied).unwrap_or(0))
}

async fn note(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &str,
    last: i64,
    copied: i64,
    done: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into {PROGRESS} (table_name, last_rowid, copied, done) values ($1, $2, $3, $4) \
         on conflict (table_name) do update set last_rowid = $2, copied = $3, done = $4"
    ))
    .bind(table)
    .bind(last)
    .bind(copied)
    .bind(done)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Compares row counts and last sequence numbers; how many conversations.
async fn verify(src: &SqlitePool, dst: &PgPool, tables: &[Table]) -> Result<u64, MigrateError> {
    let mut wrong = Vec::new();
    for table in tables {
        let sql = format!("select count(*) from {}", ident(&table.name));
        let here: i64 = sqlx::query_scalar(&sql).fetch_one(src).await?;
        let there: i64 = sqlx::query_scalar(&sql).fetch_one(dst).await?;
        if here != there {
            wrong.push(format!(
                "{}: {here} rows in SQLite, {there} in PostgreSQL",
                table.name
            ));
        }
    }
    // Values, not only rows: read positions, edits, deletions, reactions,
    // bots' owners (each the same SQL on both sides).
    for (what, sql) in [
        (
            "read positions",
            "select cast(coalesce(sum(read_seq), 0) as bigint) from members",
        ),
        (
            "delivered positions",
            "select cast(coalesce(sum(delivered_seq), 0) as bigint) from members",
        ),
        (
            "message changes",
            "select cast(coalesce(sum(change_seq), 0) as bigint) from messages",
        ),
        (
            "deleted messages",
            "select count(*) from messages where deleted_at is not null",
        ),
        (
            "edited messages",
            "select count(*) from messages where edited_at is not null",
        ),
        (
            "reactions",
            "select cast(coalesce(sum(length(reactions)), 0) as bigint) from messages",
        ),
        (
            "owned bots",
            "select count(*) from users where is_bot and bot_owner is not null",
        ),
    ] {
        let here: i64 = sqlx::query_scalar(sql).fetch_one(src).await?;
        let there: i64 = sqlx::query_scalar(sql).fetch_one(dst).await?;
        if here != there {
            wrong.push(format!("{what}: {here} in SQLite, {there} in PostgreSQL"));
        }
    }
    let sequences = "select c.id, c.last_seq, coalesce(max(m.seq), 0) as top \
         from conversations c left join messages m on m.conversation_id = c.id group by c.id, c.last_seq";
    let read =
        |rows: Vec<sqlx::sqlite::SqliteRow>| -> Result<HashMap<Uuid, (i64, i64)>, sqlx::Error> {
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("id")?,
                        (r.try_get("last_seq")?, r.try_get("top")?),
                    ))
                })
                .collect()
        };
    let here = read(sqlx::query(sequences).fetch_all(src).await?)?;
    let there: HashMap<Uuid, (i64, i64)> = sqlx::query(sequences)
        .fetch_all(dst)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                (r.try_get("last_seq")?, r.try_get("top")?),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    for (id, seqs) in &here {
        if there.get(id) != Some(seqs) {
            wrong.push(format!(
                "conversation {id}: last sequence {seqs:?} in SQLite, {:?} in PostgreSQL",
                there.get(id)
            ));
        }
    }
    if wrong.is_empty() {
        Ok(here.len() as u64)
    } else {
        Err(MigrateError::Mismatch(wrong))
    }
}

//! A column's values on their way from SQLite to PostgreSQL: read as the
//! target column's type says, bound with that type.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::Postgres;
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

/// The types ChatSphere's PostgreSQL schema uses, as copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Uuid,
    Time,
    Bool,
    Int,
    Int4,
    Bytes,
    Text,
}

impl Kind {
    /// The kind of a PostgreSQL column (`information_schema`'s
    /// `data_type`); `None` for a type not copied (the search vector, which
    /// the target computes).
    pub(super) fn of(data_type: &str) -> Result<Option<Self>, String> {
        Ok(Some(match data_type {
            "uuid" => Self::Uuid,
            "timestamp with time zone" => Self::Time,
            "boolean" => Self::Bool,
            "bigint" => Self::Int,
            "integer" | "smallint" => Self::Int4,
            "bytea" => Self::Bytes,
            "text" | "character varying" => Self::Text,
            "tsvector" => return Ok(None),
            other => return Err(other.to_owned()),
        }))
    }

    /// The cast written after its placeholder.
    pub(super) fn cast(self) -> &'static str {
        match self {
            Self::Uuid => "uuid",
            Self::Time => "timestamptz",
            Self::Bool => "boolean",
            Self::Int => "bigint",
            Self::Int4 => "integer",
            Self::Bytes => "bytea",
            Self::Text => "text",
        }
    }
}

/// One value read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Uuid(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Bool(Option<bool>),
    Int(Option<i64>),
    Int4(Option<i32>),
    Bytes(Option<Vec<u8>>),
    Text(Option<String>),
}

impl Value {
    /// Column `index` of a SQLite row, read as `kind`.
    pub(super) fn read(row: &SqliteRow, index: usize, kind: Kind) -> Result<Self, sqlx::Error> {
        Ok(match kind {
            Kind::Uuid => Self::Uuid(row.try_get(index)?),
            // PostgreSQL keeps microseconds, and would round the rest:
            // cut, so a time never moves past a later one.
            Kind::Time => Self::Time(
                row.try_get::<Option<DateTime<Utc>>, _>(index)?
                    .map(|t| t.trunc_subsecs(6)),
            ),
            Kind::Bool => Self::Bool(row.try_get(index)?),
            Kind::Int => Self::Int(row.try_get(index)?),
            Kind::Int4 => Self::Int4(
                row.try_get::<Option<i64>, _>(index)?
                    .map(|n| {
                        i32::try_from(n).map_err(|err| sqlx::Error::ColumnDecode {
                            index: index.to_string(),
                            source: Box::new(err),
                        })
                    })
                    .transpose()?,
            ),
            Kind::Bytes => Self::Bytes(row.try_get(index)?),
            Kind::Text => Self::Text(row.try_get(index)?),
        })
    }

    /// Binds it to the next placeholder.
    pub(super) fn bind<'q>(
        self,
        query: Query<'q, Postgres, sqlx::postgres::PgArguments>,
    ) -> Query<'q, Postgres, sqlx::postgres::PgArguments> {
        match self {
            Self::Uuid(v) => query.bind(v),
            Self::Time(v) => query.bind(v),
            Self::Bool(v) => query.bind(v),
            Self::Int(v) => query.bind(v),
            Self::Int4(v) => query.bind(v),
            Self::Bytes(v) => query.bind(v),
            Self::Text(v) => query.bind(v),
        }
    }
}

/// `name` as an SQL identifier (names come from the catalogs; quoted all
/// the same).
pub(super) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

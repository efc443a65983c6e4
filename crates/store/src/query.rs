//! Filtered, paged lists: a WHERE clause built with its arguments in step, so that every
//! list query binds exactly what it numbered.

use crate::{Page, PageRequest, ReadConn, Reads, Result};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    I32(i32),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
}

/// A WHERE clause and its arguments, numbered `$1`, `$2`… in order.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    sql: String,
    args: Vec<Arg>,
}

impl Filter {
    /// Starts with ` WHERE <clause>`, where `?` in the clause stands for `first`.
    pub fn new(clause: &str, first: Arg) -> Self {
        let mut f = Self {
            sql: " WHERE ".into(),
            args: Vec::new(),
        };
        f.push(clause, first);
        f
    }

    fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.args.len())));
    }

    /// Adds ` AND <clause>`; every `?` in it stands for `arg`.
    pub fn and(&mut self, clause: &str, arg: Arg) -> &mut Self {
        self.sql.push_str(" AND ");
        self.push(clause, arg);
        self
    }

    /// Adds ` AND <clause>` when there is a value.
    pub fn and_some<T>(
        &mut self,
        clause: &str,
        value: Option<T>,
        arg: impl FnOnce(T) -> Arg,
    ) -> &mut Self {
        if let Some(v) = value {
            self.and(clause, arg(v));
        }
        self
    }

    /// Adds ` AND <clause>` with no argument.
    pub fn and_raw(&mut self, clause: &str) -> &mut Self {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
        self
    }

    /// Adds ` AND col IN (…)`; an empty list matches nothing.
    pub fn and_in<T: Clone>(
        &mut self,
        col: &str,
        values: &[T],
        arg: impl Fn(T) -> Arg,
    ) -> &mut Self {
        if values.is_empty() {
            return self.and_raw("1 = 0");
        }
        let mut marks = Vec::with_capacity(values.len());
        for v in values {
            self.args.push(arg(v.clone()));
            marks.push(format!("${}", self.args.len()));
        }
        self.and_raw(&format!("{col} IN ({})", marks.join(", ")))
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    fn next(&self) -> usize {
        self.args.len() + 1
    }
}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::I32(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Bool(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// A row type a list decodes into on every driver.
pub(crate) trait ListRow:
    for<'r> sqlx::FromRow<'r, SqliteRow>
    + for<'r> sqlx::FromRow<'r, PgRow>
    + DeserializeOwned
    + Send
    + Unpin
{
}

impl<T> ListRow for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow>
        + for<'r> sqlx::FromRow<'r, PgRow>
        + DeserializeOwned
        + Send
        + Unpin
{
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            Arg::I64(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Arg::I32(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            Arg::Text(v) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(v.as_bytes())),
            Arg::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            // As sqlx writes a time on SQLite, so that stored and bound times compare.
            Arg::Time(v) => ToSqlOutput::Owned(Value::Text(crate::snapshot::sqlite_time(v))),
        })
    }
}

/// Every row of `<select> <from><where> ORDER BY <order>`.
pub(crate) async fn all_of<R: Reads + ?Sized, T: ListRow>(
    r: &mut R,
    select: &str,
    from: &str,
    f: &Filter,
    order: &str,
) -> Result<Vec<T>> {
    let sql = format!("{select} {from}{} ORDER BY {order}", f.sql());
    rows_of(r, &sql, &f.args, &[]).await
}

/// The rows of `sql` with `args` and then `more` bound, on any driver.
async fn rows_of<R: Reads + ?Sized, T: ListRow>(
    r: &mut R,
    sql: &str,
    args: &[Arg],
    more: &[i64],
) -> Result<Vec<T>> {
    Ok(match r.read_conn() {
        ReadConn::Sqlite(c) => {
            let q = bind_args!(sqlx::query_as::<_, T>(sql), args);
            more.iter().fold(q, |q, v| q.bind(*v)).fetch_all(c).await?
        }
        ReadConn::Postgres(c) => {
            let q = bind_args!(sqlx::query_as::<_, T>(sql), args);
            more.iter().fold(q, |q, v| q.bind(*v)).fetch_all(c).await?
        }
        ReadConn::Inline(c) => {
            let params: Vec<&dyn rusqlite::ToSql> = args
                .iter()
                .map(|a| a as &dyn rusqlite::ToSql)
                .chain(more.iter().map(|v| v as &dyn rusqlite::ToSql))
                .collect();
            crate::snapshot::inline_all(c, sql, &params)?
        }
    })
}

/// Runs `SELECT COUNT(*) <from><where>` and `<select><from><where> <order> LIMIT OFFSET`.
pub(crate) async fn page_of<R: Reads + ?Sized, T: ListRow>(
    r: &mut R,
    select: &str,
    from: &str,
    f: &Filter,
    order: &str,
    page: PageRequest,
) -> Result<Page<T>> {
    page_counted(r, select, from, from, f, order, page).await
}

/// As [`page_of`], counting over `count_from`: the tables the filter needs, without the
/// joins that only add columns to the list.
pub(crate) async fn page_counted<R: Reads + ?Sized, T: ListRow>(
    r: &mut R,
    select: &str,
    from: &str,
    count_from: &str,
    f: &Filter,
    order: &str,
    page: PageRequest,
) -> Result<Page<T>> {
    let n = f.next();
    let list_sql = format!(
        "{select} {from}{} ORDER BY {order} LIMIT ${n} OFFSET ${}",
        f.sql(),
        n + 1
    );
    let items: Vec<T> = rows_of(r, &list_sql, &f.args, &[page.per_page, page.offset()]).await?;
    // A first page that is not full holds everything: no need to count.
    let short = i64::try_from(items.len()).is_ok_and(|n| n < page.per_page);
    let total: i64 = if page.offset() == 0 && short {
        i64::try_from(items.len()).unwrap_or(i64::MAX)
    } else {
        let count_sql = format!("SELECT COUNT(*) AS n {count_from}{}", f.sql());
        let counted: Vec<Count> = rows_of(r, &count_sql, &f.args, &[]).await?;
        counted.first().map_or(0, |c| c.n)
    };
    Ok(Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct Count {
    n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_arguments() {
        let mut f = Filter::new("a.implementation_id = ?", Arg::I64(1));
        f.and("(x LIKE ? OR y LIKE ?)", Arg::Text("%a%".into()))
            .and_some("b = ?", Some(true), Arg::Bool)
            .and_some("c = ?", None::<i64>, Arg::I64)
            .and_in("d", &[5i64, 6], Arg::I64)
            .and_in("e", &[] as &[i64], Arg::I64);
        assert_eq!(f.sql(), " WHERE a.implementation_id = $1 AND (x LIKE $2 OR y LIKE $2) AND b = $3 AND d IN ($4, $5) AND 1 = 0");
        assert_eq!(f.next(), 6);
    }
}

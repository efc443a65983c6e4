//! Filtered, paged lists: a WHERE clause built with its arguments in step, so that every
//! list query binds exactly what it numbered.

use crate::{on_conn, Page, PageRequest, Result, Tx};
use chrono::{DateTime, Utc};
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

impl Tx {
    /// Every row of `<select> <from><where> ORDER BY <order>`.
    pub(crate) async fn all_of<T>(
        &mut self,
        select: &str,
        from: &str,
        f: &Filter,
        order: &str,
    ) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        let sql = format!("{select} {from}{} ORDER BY {order}", f.sql());
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query_as::<_, T>(&sql), &f.args).fetch_all(c).await)?,
        )
    }

    /// Runs `SELECT COUNT(*) <from><where>` and `<select><from><where> <order> LIMIT OFFSET`.
    pub(crate) async fn page_of<T>(
        &mut self,
        select: &str,
        from: &str,
        f: &Filter,
        order: &str,
        page: PageRequest,
    ) -> Result<Page<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        self.page_counted(select, from, from, f, order, page).await
    }

    /// As [`Tx::page_of`], counting over `count_from`: the tables the filter needs, without
    /// the joins that only add columns to the list.
    pub(crate) async fn page_counted<T>(
        &mut self,
        select: &str,
        from: &str,
        count_from: &str,
        f: &Filter,
        order: &str,
        page: PageRequest,
    ) -> Result<Page<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        let count_sql = format!("SELECT COUNT(*) {count_from}{}", f.sql());
        let n = f.next();
        let list_sql = format!(
            "{select} {from}{} ORDER BY {order} LIMIT ${n} OFFSET ${}",
            f.sql(),
            n + 1
        );
        let items: Vec<T> = on_conn!(self, c => bind_args!(sqlx::query_as::<_, T>(&list_sql), &f.args).bind(page.per_page).bind(page.offset()).fetch_all(c).await)?;
        // A first page that is not full holds everything: no need to count.
        let short = i64::try_from(items.len()).is_ok_and(|n| n < page.per_page);
        let total: i64 = if page.offset() == 0 && short {
            i64::try_from(items.len()).unwrap_or(i64::MAX)
        } else {
            on_conn!(self, c => bind_args!(sqlx::query_scalar(&count_sql), &f.args).fetch_one(c).await)?
        };
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
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

//! CSV exports of lists, safe to open in a spreadsheet.

/// Writes a header row and data rows as RFC 4180 CSV. Cells that a spreadsheet would run
/// as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed
/// with an apostrophe, the OWASP advice against CSV injection.
pub fn write_csv<I, R>(header: &[&str], rows: I) -> Result<String, CsvError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        let cells: Vec<String> = row.into_iter().map(|c| neutralise(&c)).collect();
        w.write_record(&cells)?;
    }
    let bytes = w.into_inner().map_err(|e| CsvError(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| CsvError(e.to_string()))
}

fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("CSV: {0}")]
pub struct CsvError(String);

impl From<csv::Error> for CsvError {
    fn from(e: csv::Error) -> Self {
        CsvError(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quotes_and_neutralises() {
        let out = write_csv(
            &["name", "note"],
            vec![vec!["A, B".to_string(), "=1+1".to_string()]],
        )
        .unwrap();
        assert_eq!(out, "name,note\n\"A, B\",'=1+1\n");
    }

    proptest! {
        #[test]
        fn any_text_round_trips_through_a_reader(cells in proptest::collection::vec("[^=+@\\-\t\r][ -~]{0,20}", 1..5)) {
            let out = write_csv(&vec!["c"; cells.len()], vec![cells.clone()]).unwrap();
            let mut r = csv::Reader::from_reader(out.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            let got: Vec<String> = rec.iter().map(str::to_string).collect();
            prop_assert_eq!(got, cells);
        }
    }
}

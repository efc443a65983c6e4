//! The API contract, enforced from the OpenAPI document itself.
//!
//! Every JSON body and every query string is checked against the schema the document
//! publishes for it (the same `utoipa` attributes generate both), before a handler sees it.
//! So the document cannot promise what the server refuses, nor the server refuse what the
//! document allows, for any rule the document can state: types, required fields, unknown
//! fields (`additionalProperties: false`), enums, minimum/maximum, minLength/maxLength,
//! patterns, `minItems`, and the formats `date`, `date-time`, `email`, `int32` and `int64`.
//!
//! What the document cannot state (an id that must name a stored record, a name already
//! taken) is left to the services, whose refusals the API then answers as 404 or 409.

use chrono::{DateTime, NaiveDate};
use onramp_domain::values::{Email, EMAIL_PATTERN, REQUIRED_TEXT_PATTERN};
use onramp_domain::FieldError;
use regex::Regex;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use utoipa::openapi::path::{Parameter, ParameterIn};

/// The published document, as JSON, for resolving `$ref`s.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(super::openapi()).unwrap_or(Value::Null))
}

/// The schema of a named component (`#/components/schemas/<name>`).
pub fn component(name: &str) -> Option<&'static Value> {
    document()
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(|s| s.get(name))
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    // A bounded walk: a `$ref` to a `$ref` is allowed, a cycle is not followed for ever.
    for _ in 0..8 {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(component)
        {
            Some(target) => s = target,
            None => break,
        }
    }
    s
}

fn regex(pattern: &str) -> Option<Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| {
            let compiled = Regex::new(pattern);
            if let Err(e) = &compiled {
                tracing::error!(%pattern, error = %e, "the API document has a pattern the server cannot read");
            }
            compiled.ok()
        })
        .clone()
}

/// The JSON types a schema allows (`type` as a string or a list); empty when any.
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number with no fractional part (`1.0` is an integer in JSON Schema).
fn integral(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
}

fn type_matches(t: &str, v: &Value) -> bool {
    match (t, v) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => integral(n),
        _ => false,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_string()
    }
}

fn listed(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn number_text(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{}", f as i128),
        _ => v.to_string(),
    }
}

/// What a failed `pattern` means, in words.
fn pattern_message(pattern: &str) -> String {
    if pattern == REQUIRED_TEXT_PATTERN {
        "Enter some text: not only spaces, and no control characters such as line breaks".into()
    } else if pattern == EMAIL_PATTERN {
        "Enter an email address like name@agency.org".into()
    } else {
        format!("Use the form {pattern}")
    }
}

/// Checks `value` against `schema`, appending one error per field that breaks a rule.
/// Integral floats (`1.0`) where an integer is expected are rewritten as integers, so that
/// what the schema accepts also deserializes.
pub fn check(schema: &Value, value: &mut Value, path: &str, errors: &mut Vec<FieldError>) {
    let schema = resolve(schema);

    if let Some(Value::Array(all)) = schema.get("allOf") {
        for s in all {
            check(s, value, path, errors);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = schema.get(key) {
            // The first alternative that holds wins; if none does, the errors of the most
            // specific one (not `null`) are told.
            let mut best: Option<Vec<FieldError>> = None;
            let mut matched = false;
            for s in alternatives {
                let mut trial = value.clone();
                let mut e = Vec::new();
                check(s, &mut trial, path, &mut e);
                if e.is_empty() {
                    *value = trial;
                    matched = true;
                    break;
                }
                let is_null = types(resolve(s)) == ["null"];
                if best.is_none() || !is_null {
                    best = Some(e);
                }
            }
            if !matched {
                errors.extend(best.unwrap_or_default());
                return;
            }
        }
    }

    let allowed = types(schema);
    if !allowed.is_empty() && !allowed.iter().any(|t| type_matches(t, value)) {
        let expected = allowed
            .iter()
            .map(|t| match *t {
                "null" => "null",
                "boolean" => "true or false",
                "integer" => "a whole number",
                "number" => "a number",
                "string" => "text",
                "array" => "a list",
                "object" => "an object",
                other => other,
            })
            .collect::<Vec<_>>()
            .join(" or ");
        errors.push(FieldError::new(
            field(path),
            format!("Expected {expected}, not {}", type_of(value)),
        ));
        return;
    }
    // An integral float where an integer is wanted becomes an integer.
    if allowed.contains(&"integer") {
        if let Value::Number(n) = value {
            if !n.is_i64() && !n.is_u64() {
                if let Some(f) = n.as_f64() {
                    if f.fract() == 0.0 && f.abs() < 9.0e15 {
                        *value = Value::from(f as i64);
                    }
                }
            }
        }
    }

    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(value) {
            errors.push(FieldError::new(
                field(path),
                format!("Use one of: {}", listed(options)),
            ));
            return;
        }
    }

    match value {
        Value::Number(n) => check_number(schema, n, path, errors),
        Value::String(s) => check_string(schema, s, path, errors),
        Value::Array(items) => {
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    errors.push(FieldError::new(
                        field(path),
                        format!(
                            "Give at least {min} item{}",
                            if min == 1 { "" } else { "s" }
                        ),
                    ));
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    errors.push(FieldError::new(
                        field(path),
                        format!("Give at most {max} items"),
                    ));
                }
            }
            if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
                let mut seen: Vec<&Value> = Vec::new();
                for v in items.iter() {
                    if seen.contains(&v) {
                        errors.push(FieldError::new(field(path), "Give each item once"));
                        break;
                    }
                    seen.push(v);
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    check(item_schema, v, &format!("{}[{i}]", field(path)), errors);
                }
            }
        }
        Value::Object(fields) => check_object(schema, fields, path, errors),
        Value::Null | Value::Bool(_) => {}
    }
}

fn check_number(schema: &Value, n: &Number, path: &str, errors: &mut Vec<FieldError>) {
    let Some(x) = n.as_f64() else { return };
    let limit = |key: &str| schema.get(key).filter(|v| v.is_number());
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let fits = match format {
            "int32" => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            "int64" => n.is_i64(),
            _ => true,
        };
        if !fits {
            errors.push(FieldError::new(
                field(path),
                format!("Too large: an {format} number is expected"),
            ));
            return;
        }
    }
    if let Some(min) = limit("minimum") {
        if x < min.as_f64().unwrap_or(f64::MIN) {
            errors.push(FieldError::new(
                field(path),
                format!("Use a number of at least {}", number_text(min)),
            ));
        }
    }
    if let Some(max) = limit("maximum") {
        if x > max.as_f64().unwrap_or(f64::MAX) {
            errors.push(FieldError::new(
                field(path),
                format!("Use a number of at most {}", number_text(max)),
            ));
        }
    }
    if let Some(min) = limit("exclusiveMinimum") {
        if x <= min.as_f64().unwrap_or(f64::MIN) {
            errors.push(FieldError::new(
                field(path),
                format!("Use a number greater than {}", number_text(min)),
            ));
        }
    }
    if let Some(max) = limit("exclusiveMaximum") {
        if x >= max.as_f64().unwrap_or(f64::MAX) {
            errors.push(FieldError::new(
                field(path),
                format!("Use a number less than {}", number_text(max)),
            ));
        }
    }
}

fn check_string(schema: &Value, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if len < min {
            errors.push(FieldError::new(
                field(path),
                if min == 1 {
                    "Enter a value".to_string()
                } else {
                    format!("Use at least {min} characters")
                },
            ));
            return;
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            errors.push(FieldError::new(
                field(path),
                format!("Use at most {max} characters"),
            ));
            return;
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let matches = regex(pattern).is_some_and(|r| r.is_match(s));
        if !matches {
            errors.push(FieldError::new(field(path), pattern_message(pattern)));
            return;
        }
    }
    let format_ok = match schema.get("format").and_then(Value::as_str) {
        Some("date") => date(s).is_some(),
        Some("date-time") => DateTime::parse_from_rfc3339(s).is_ok(),
        Some("email") => Email::parse(s).is_ok() && !s.chars().any(char::is_whitespace),
        _ => true,
    };
    if !format_ok {
        let message = match schema.get("format").and_then(Value::as_str) {
            Some("date") => "Enter a date as YYYY-MM-DD, like 2026-07-01",
            Some("date-time") => "Enter a date and time as RFC 3339, like 2026-07-01T09:30:00Z",
            _ => "Enter an email address like name@agency.org",
        };
        errors.push(FieldError::new(field(path), message));
    }
}

/// A calendar date written exactly as `YYYY-MM-DD`.
fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn check_object(
    schema: &Value,
    fields: &mut Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !fields.contains_key(name) {
                errors.push(FieldError::new(join(path, name), "This field is required"));
            }
        }
    }
    for (name, v) in fields.iter_mut() {
        match properties.and_then(|p| p.get(name)) {
            Some(s) => check(s, v, &join(path, name), errors),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => errors.push(FieldError::new(
                    join(path, name),
                    "Unknown field: this object does not take it (see the API document)",
                )),
                Some(s @ Value::Object(_)) => check(s, v, &join(path, name), errors),
                _ => {}
            },
        }
    }
}

/// Why a query string breaks the contract.
#[derive(Debug, PartialEq, Eq)]
pub enum QueryProblem {
    /// A value that is not of the parameter's type (`page=first`), or a parameter given twice.
    Unreadable(Vec<FieldError>),
    /// A value of the right type that breaks a rule (`per_page=0`, `status=AAA`).
    Invalid(Vec<FieldError>),
}

/// Checks a query string against the operation's documented query parameters, and gives
/// it back normalised: an integer parameter written as an integral decimal (`agency_id=2.0`,
/// an integer to JSON Schema) is rewritten as `2`, so that the handler reads what the
/// contract allowed. Parameters the operation does not take are ignored.
pub fn check_query(params: &[Parameter], query: &str) -> Result<String, QueryProblem> {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| QueryProblem::Unreadable(vec![FieldError::new("query", e.to_string())]))?;
    let mut unreadable = Vec::new();
    let mut invalid = Vec::new();
    for p in params
        .iter()
        .filter(|p| p.parameter_in == ParameterIn::Query)
    {
        let given: Vec<usize> = pairs
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| *k == p.name)
            .map(|(i, _)| i)
            .collect();
        let schema = p
            .schema
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(Value::Null);
        match given.as_slice() {
            [] => {
                if matches!(p.required, utoipa::openapi::Required::True) {
                    invalid.push(FieldError::new(&p.name, "This parameter is required"));
                }
            }
            [i] => match typed(&schema, &pairs[*i].1) {
                Some(mut v) => {
                    if let Value::Number(n) = &v {
                        if scalar_type(&schema) == "integer" {
                            pairs[*i].1 = n.to_string();
                        }
                    }
                    check(&schema, &mut v, &p.name, &mut invalid)
                }
                None => unreadable.push(FieldError::new(
                    &p.name,
                    format!("Expected {}", expected_text(&schema)),
                )),
            },
            _ => unreadable.push(FieldError::new(&p.name, "Give this parameter once")),
        }
    }
    if !unreadable.is_empty() {
        Err(QueryProblem::Unreadable(unreadable))
    } else if !invalid.is_empty() {
        Err(QueryProblem::Invalid(invalid))
    } else {
        serde_urlencoded::to_string(&pairs)
            .map_err(|e| QueryProblem::Unreadable(vec![FieldError::new("query", e.to_string())]))
    }
}

/// The whole number a URL text stands for: `12`, and also `12.0` or `1.2e1`, which JSON
/// Schema counts as the integer 12. `None` for a fraction, an out-of-range value or text.
pub fn integer_text(raw: &str) -> Option<i64> {
    if let Ok(i) = raw.parse::<i64>() {
        return Some(i);
    }
    // Only number-shaped text: `inf`, `NaN` and the like parse as f64 but are no integer.
    if !raw
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    let f = raw.parse::<f64>().ok()?;
    // 2^63 is the first f64 beyond i64; every f64 below it in magnitude that has no
    // fractional part converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && f > -LIMIT && f < LIMIT).then_some(f as i64)
}

/// The JSON value a query-string text stands for under the parameter's schema, if it is of
/// that type.
fn typed(schema: &Value, raw: &str) -> Option<Value> {
    let t = scalar_type(schema);
    match t {
        "integer" => integer_text(raw).map(Value::from),
        "number" => raw
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
            .map(Value::Number),
        "boolean" => match raw {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::String(raw.to_string())),
    }
}

/// The non-null type of a parameter's schema, following `$ref`s and `oneOf`s.
fn scalar_type(schema: &Value) -> &str {
    let schema = resolve(schema);
    if let Some(t) = types(schema).into_iter().find(|t| *t != "null") {
        return t;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(alts)) = schema.get(key) {
            for s in alts {
                let t = scalar_type(s);
                if t != "null" && t != "any" {
                    return t;
                }
            }
        }
    }
    if schema.get("enum").is_some() {
        return "string";
    }
    "any"
}

fn expected_text(schema: &Value) -> &'static str {
    match scalar_type(schema) {
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        _ => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(schema: Value, mut v: Value) -> Vec<String> {
        let mut e = Vec::new();
        check(&schema, &mut v, "", &mut e);
        e.into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    #[test]
    fn objects_name_each_broken_field() {
        let schema = json!({
            "type": "object", "additionalProperties": false, "required": ["name", "n"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 3},
                "n": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 5},
                "ids": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1}},
                "when": {"type": ["string", "null"], "format": "date"},
            }
        });
        assert!(errors(
            schema.clone(),
            json!({"name": "abc", "n": 5.0, "when": null})
        )
        .is_empty());
        assert_eq!(
            errors(
                schema.clone(),
                json!({"name": "abcd", "n": 0, "ids": [0], "when": "2026-7-1", "x": 1})
            ),
            vec![
                "ids[0]: Use a number of at least 1",
                "n: Use a number of at least 1",
                "name: Use at most 3 characters",
                "when: Enter a date as YYYY-MM-DD, like 2026-07-01",
                "x: Unknown field: this object does not take it (see the API document)",
            ]
        );
        assert_eq!(
            errors(schema.clone(), json!({"ids": []})),
            vec![
                "name: This field is required",
                "n: This field is required",
                "ids: Give at least 1 item"
            ]
        );
        assert_eq!(
            errors(schema, json!([1])),
            vec!["body: Expected an object, not array"]
        );
    }

    #[test]
    fn required_text_and_email_patterns() {
        let text = json!({"type": "string", "pattern": REQUIRED_TEXT_PATTERN});
        for ok in ["a", " a ", "Zoë", "\u{00a0}x", "名前"] {
            assert!(errors(text.clone(), json!(ok)).is_empty(), "{ok:?}");
        }
        for bad in ["", " ", "\u{3000}", "a\nb", "a\u{7f}", "\t", "a\u{85}"] {
            assert!(!errors(text.clone(), json!(bad)).is_empty(), "{bad:?}");
        }
        let email = json!({"type": "string", "format": "email", "pattern": EMAIL_PATTERN});
        for ok in ["a@b.org", "O'Brien+x@Mail.Example.ORG", "a@1.2"] {
            assert!(errors(email.clone(), json!(ok)).is_empty(), "{ok:?}");
        }
        let long_local = format!("{}@b.org", "a".repeat(65));
        for bad in [
            "a@b",
            " a@b.org",
            "a..b@c.org",
            "a@-b.org",
            "\"a b\"@c.org",
            &long_local,
        ] {
            assert!(!errors(email.clone(), json!(bad)).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn enums_and_nullable_references() {
        let schema =
            json!({"oneOf": [{"type": "null"}, {"type": "string", "enum": ["open", "on_hold"]}]});
        assert!(errors(schema.clone(), json!(null)).is_empty());
        assert!(errors(schema.clone(), json!("open")).is_empty());
        assert_eq!(
            errors(schema, json!("AAA")),
            vec!["body: Use one of: open, on_hold"]
        );
    }
}

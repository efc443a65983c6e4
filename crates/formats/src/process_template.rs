//! Process templates as TOML files: what the admin pages edit, export and import.
//!
//! A file holds the template's own keys first, then one `[[steps]]` table per step, in
//! the order the steps happen:
//!
//! ```toml
//! key = "online-courses-then-login"
//! name = "Online courses, then HMIS login"
//! carry_over_days = 365
//! username_pattern = "{first}.{last}"
//!
//! [[steps]]
//! key = "review"
//! title = "Review the request"
//! kind = "lead_review"
//! actor = "lead"
//! sla_hours = 48
//!
//! [[steps]]
//! key = "training"
//! title = "Complete the online courses"
//! kind = "training_plan_complete"
//! actor = "trainee"
//! after = ["review"]
//! applies = { except_access_levels = ["read_only"] }
//! deadline = { days = 14, from = "step_open", on_expiry = "expire_request", warn_days_before = 3 }
//! ```
//!
//! [`parse`] reads the shape only (syntax, known keys, kinds and actors) and reports each
//! problem with its line; the rules of a template (references, who may act on what) are
//! [`ProcessTemplate::validate`]'s. [`write`] produces a file that [`parse`] reads back to
//! the same template.

use onramp_domain::process::{
    Audience, Condition, Deadline, DeadlineFrom, OnExpiry, ProcessTemplate, StepDef,
};
use std::fmt::{self, Write as _};

/// A problem with a template file, with the line it is on when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatProblem {
    /// 1-based line number.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FormatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Reads a template file.
pub fn parse(text: &str) -> Result<ProcessTemplate, Vec<FormatProblem>> {
    if text.trim().is_empty() {
        return Err(vec![FormatProblem {
            line: None,
            message: "The file is empty: a process template needs a key, a name and at least one [[steps]] table".into(),
        }]);
    }
    toml::from_str::<ProcessTemplate>(text).map_err(|e| vec![problem(text, &e)])
}

fn problem(text: &str, e: &toml::de::Error) -> FormatProblem {
    let missing = e.message().trim().starts_with("missing field");
    // A span from the very start (e.g. a missing top-level key) says nothing about where.
    let line = e
        .span()
        .filter(|s| !(s.start == 0 && (s.end >= text.len() || missing)))
        .map(|s| line_of(text, s.start));
    FormatProblem {
        line,
        message: tidy(e.message()),
    }
}

/// The parser's message in the words of someone editing the file.
fn tidy(message: &str) -> String {
    let message = message.trim();
    if message == "missing field `steps`" {
        return "There are no steps: add a [[steps]] table for each step".into();
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is missing");
    }
    message
        .replace("expected u32", "expected a whole number of 0 or more")
        .replace("expected i32", "expected a whole number")
        .replace(
            "expected a sequence",
            "expected a list, like [\"a\", \"b\"]",
        )
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The 1-based lines of the `[[steps]]` headers, in order: where each step starts (for
/// messages about a step). Steps written another way (an inline array) are not found.
pub fn step_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            l.starts_with("[[steps]]") || l.starts_with("[[ steps ]]")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Writes a template as a readable TOML file that [`parse`] reads back unchanged.
pub fn write(t: &ProcessTemplate) -> String {
    let mut out = String::new();
    out.push_str("# Onramp process template. Steps are listed in the order they happen.\n");
    line(&mut out, "key", &string(&t.key));
    line(&mut out, "name", &string(&t.name));
    if !t.description.is_empty() {
        line(&mut out, "description", &string(&t.description));
    }
    line(&mut out, "carry_over_days", &t.carry_over_days.to_string());
    line(&mut out, "username_pattern", &string(&t.username_pattern));
    if t.steps.is_empty() {
        line(&mut out, "steps", "[]");
    }
    for s in &t.steps {
        out.push('\n');
        write_step(&mut out, s);
    }
    out
}

fn write_step(out: &mut String, s: &StepDef) {
    out.push_str("[[steps]]\n");
    line(out, "key", &string(&s.key));
    line(out, "title", &string(&s.title));
    line(out, "kind", &string(s.kind.as_str()));
    line(out, "actor", &string(s.actor.as_str()));
    if !s.after.is_empty() {
        line(out, "after", &string_list(&s.after));
    }
    if !s.applies.is_always() {
        line(out, "applies", &condition(&s.applies));
    }
    if let Some(d) = &s.deadline {
        line(out, "deadline", &deadline(d));
    }
    if let Some(h) = s.sla_hours {
        line(out, "sla_hours", &h.to_string());
    }
    if let Some(d) = s.remind_every_days {
        line(out, "remind_every_days", &d.to_string());
    }
    if let Some(a) = &s.agreement {
        line(out, "agreement", &string(a));
    }
    if !s.signers.is_empty() {
        let names: Vec<String> = s.signers.iter().map(|r| r.as_str().to_string()).collect();
        line(out, "signers", &string_list(&names));
    }
    if !s.plan_parts.is_empty() {
        line(out, "plan_parts", &string_list(&s.plan_parts));
    }
    if !s.instructions.is_empty() {
        line(out, "instructions", &string(&s.instructions));
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key} = {value}");
}

fn condition(c: &Condition) -> String {
    let mut parts = Vec::new();
    if !c.access_levels.is_empty() {
        parts.push(format!("access_levels = {}", string_list(&c.access_levels)));
    }
    if !c.except_access_levels.is_empty() {
        parts.push(format!(
            "except_access_levels = {}",
            string_list(&c.except_access_levels)
        ));
    }
    if !c.responsibilities.is_empty() {
        parts.push(format!(
            "responsibilities = {}",
            string_list(&c.responsibilities)
        ));
    }
    if !c.project_types.is_empty() {
        let types: Vec<String> = c.project_types.iter().map(|t| t.to_string()).collect();
        parts.push(format!("project_types = [{}]", types.join(", ")));
    }
    match c.audience {
        Audience::Any => {}
        Audience::New => parts.push("audience = \"new\"".into()),
        Audience::Returning => parts.push("audience = \"returning\"".into()),
    }
    format!("{{ {} }}", parts.join(", "))
}

fn deadline(d: &Deadline) -> String {
    let from = match d.from {
        DeadlineFrom::RequestStart => "request_start",
        DeadlineFrom::StepOpen => "step_open",
    };
    let on_expiry = match d.on_expiry {
        OnExpiry::ExpireRequest => "expire_request",
        OnExpiry::Notify => "notify",
    };
    format!(
        "{{ days = {}, from = \"{from}\", on_expiry = \"{on_expiry}\", warn_days_before = {} }}",
        d.days, d.warn_days_before
    )
}

fn string_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A TOML basic string; text with line breaks becomes a multi-line string.
fn string(s: &str) -> String {
    let multiline = s.contains('\n');
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(if multiline { "\"\"\"\n" } else { "\"" });
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' if multiline => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(if multiline { "\"\"\"" } else { "\"" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use onramp_domain::agreement::SignerRole;
    use onramp_domain::process::{StepActor, StepKind};
    use proptest::prelude::*;

    /// The five seed templates shipped with Onramp.
    const SEEDS: [(&str, &str); 5] = [
        (
            "000",
            include_str!("../../app/processes/000-online-courses-then-login.toml"),
        ),
        (
            "001",
            include_str!("../../app/processes/001-agency-checklist-then-account.toml"),
        ),
        (
            "002",
            include_str!("../../app/processes/002-introductory-and-advanced-training.toml"),
        ),
        (
            "003",
            include_str!("../../app/processes/003-verification-and-agreement-then-quiz.toml"),
        ),
        (
            "004",
            include_str!("../../app/processes/004-courses-and-proctored-session.toml"),
        ),
    ];

    const AGREEMENTS: [&str; 4] = [
        "end_user",
        "security_awareness",
        "staff_verification",
        "agency_participation",
    ];

    #[test]
    fn the_seeds_parse_validate_and_round_trip() {
        let agreements: Vec<String> = AGREEMENTS.iter().map(|s| s.to_string()).collect();
        for (seed, text) in SEEDS {
            let t = parse(text).unwrap_or_else(|p| panic!("seed {seed}: {p:?}"));
            t.validate(&agreements)
                .unwrap_or_else(|p| panic!("seed {seed}: {p:?}"));
            assert!(
                t.description.contains(&format!("seed {seed}")),
                "seed {seed}'s description cites it"
            );
            let written = write(&t);
            assert_eq!(
                parse(&written).unwrap_or_else(|p| panic!("seed {seed} written: {p:?}\n{written}")),
                t,
                "seed {seed}"
            );
            // Writing is stable: the written file writes itself again.
            assert_eq!(write(&parse(&written).unwrap()), written);
        }
    }

    #[test]
    fn written_files_list_template_keys_then_steps() {
        let t = parse(SEEDS[0].1).unwrap();
        let w = write(&t);
        let first_step = w.find("[[steps]]").unwrap();
        for k in [
            "key = ",
            "name = ",
            "carry_over_days = ",
            "username_pattern = ",
        ] {
            assert!(w.find(k).unwrap() < first_step, "{k} before the steps");
        }
        assert_eq!(w.matches("[[steps]]").count(), t.steps.len());
        assert_eq!(step_lines(&w).len(), t.steps.len());
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let text = "key = \"t\"\nname = \"T\"\n\n[[steps]]\nkey = \"a\"\ntitle = \"A\nkind = \"checklist\"\n";
        let p = parse(text).unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, Some(6), "{p:?}");
        assert!(p[0].to_string().starts_with("line 6: "), "{}", p[0]);
    }

    #[test]
    fn shape_errors_carry_their_line() {
        let base = "key = \"t\"\nname = \"T\"\n\n[[steps]]\nkey = \"a\"\ntitle = \"A\"\n";
        // An unknown kind.
        let p = parse(&format!("{base}kind = \"lead_reveiw\"\nactor = \"lead\"\n")).unwrap_err();
        assert_eq!(p[0].line, Some(7), "{p:?}");
        assert!(p[0].message.contains("lead_reveiw"), "{p:?}");
        // An unknown key in a step.
        let p = parse(&format!(
            "{base}kind = \"checklist\"\nactor = \"lead\"\nsla_hour = 4\n"
        ))
        .unwrap_err();
        assert_eq!(p[0].line, Some(9), "{p:?}");
        assert!(p[0].message.contains("sla_hour"), "{p:?}");
        // A value of the wrong type.
        let p = parse(&format!(
            "{base}kind = \"checklist\"\nactor = \"lead\"\nsla_hours = \"two days\"\n"
        ))
        .unwrap_err();
        assert_eq!(p[0].line, Some(9), "{p:?}");
        // An unknown condition.
        let p = parse(&format!(
            "{base}kind = \"checklist\"\nactor = \"lead\"\napplies = {{ roles = [\"x\"] }}\n"
        ))
        .unwrap_err();
        assert_eq!(p[0].line, Some(9), "{p:?}");
        // A missing field of a step points at the step.
        let p = parse(&format!("{base}actor = \"lead\"\n")).unwrap_err();
        assert_eq!(p[0].message, "`kind` is missing");
        assert!(matches!(p[0].line, Some(4..=7)), "{p:?}");
    }

    #[test]
    fn empty_and_incomplete_files_are_explained() {
        let p = parse("  \n").unwrap_err();
        assert!(p[0].message.contains("empty"), "{p:?}");
        let p = parse("key = \"t\"\nname = \"T\"\n").unwrap_err();
        assert_eq!(
            p[0].to_string(),
            "There are no steps: add a [[steps]] table for each step"
        );
        assert_eq!(p[0].line, None);
    }

    #[test]
    fn awkward_text_round_trips() {
        let mut t = parse(SEEDS[0].1).unwrap();
        t.description =
            "Line one\nLine \"two\" with a \\ and \"\"\" quotes\r\n\ttabbed\u{1}\n".into();
        t.steps[0].title = "Tab\there, quote \" and 'single' ✓".into();
        t.steps[0].instructions = "\n".into();
        assert_eq!(parse(&write(&t)).unwrap(), t);
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-z_ \n\"'\\\\]{0,12}"]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        (
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(any::<i32>(), 0..3),
            prop_oneof![
                Just(Audience::Any),
                Just(Audience::New),
                Just(Audience::Returning)
            ],
        )
            .prop_map(
                |(
                    access_levels,
                    except_access_levels,
                    responsibilities,
                    project_types,
                    audience,
                )| Condition {
                    access_levels,
                    except_access_levels,
                    responsibilities,
                    project_types,
                    audience,
                },
            )
    }

    fn deadline() -> impl Strategy<Value = Deadline> {
        (
            any::<u32>(),
            prop_oneof![
                Just(DeadlineFrom::RequestStart),
                Just(DeadlineFrom::StepOpen)
            ],
            prop_oneof![Just(OnExpiry::ExpireRequest), Just(OnExpiry::Notify)],
            any::<u32>(),
        )
            .prop_map(|(days, from, on_expiry, warn_days_before)| Deadline {
                days,
                from,
                on_expiry,
                warn_days_before,
            })
    }

    fn step() -> impl Strategy<Value = StepDef> {
        (
            (
                text(),
                text(),
                proptest::sample::select(StepKind::ALL.to_vec()),
                0usize..7,
            ),
            (
                proptest::collection::vec(text(), 0..3),
                condition(),
                proptest::option::of(deadline()),
            ),
            (
                proptest::option::of(any::<u32>()),
                proptest::option::of(any::<u32>()),
                proptest::option::of(text()),
                text(),
                proptest::collection::vec(proptest::sample::select(SignerRole::ALL.to_vec()), 0..3),
                proptest::collection::vec("[a-z][a-z0-9-]{0,8}", 0..3),
            ),
        )
            .prop_map(
                |(
                    (key, title, kind, actor),
                    (after, applies, deadline),
                    (sla_hours, remind_every_days, agreement, instructions, signers, plan_parts),
                )| {
                    let actor = [
                        StepActor::Lead,
                        StepActor::AgencyContact,
                        StepActor::Supervisor,
                        StepActor::Trainee,
                        StepActor::ExecutiveDirector,
                        StepActor::Proctor,
                        StepActor::Signers,
                    ][actor];
                    StepDef {
                        key,
                        title,
                        kind,
                        actor,
                        after,
                        applies,
                        deadline,
                        sla_hours,
                        remind_every_days,
                        agreement,
                        signers,
                        plan_parts,
                        instructions,
                    }
                },
            )
    }

    fn template() -> impl Strategy<Value = ProcessTemplate> {
        (
            text(),
            text(),
            text(),
            any::<u32>(),
            text(),
            proptest::collection::vec(step(), 0..5),
        )
            .prop_map(
                |(key, name, description, carry_over_days, username_pattern, steps)| {
                    ProcessTemplate {
                        key,
                        name,
                        description,
                        carry_over_days,
                        username_pattern,
                        steps,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn any_template_round_trips(t in template()) {
            let written = write(&t);
            let back = parse(&written);
            prop_assert_eq!(back.as_ref().ok(), Some(&t), "written:\n{}\nparsed: {:?}", written, back);
        }
    }
}

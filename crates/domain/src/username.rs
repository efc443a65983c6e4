//! Proposed HMIS usernames from a configurable pattern, unique within an implementation.
//!
//! A pattern mixes literal characters with `{first}`, `{last}`, `{f}` (first initial) and
//! `{l}` (last initial). Names are folded to ASCII lower case; a number is added when the
//! name is taken (`ana.smith`, `ana.smith2`, …).

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    First,
    Last,
    FirstInitial,
    LastInitial,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernamePattern(Vec<Part>);

impl UsernamePattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        let mut has_name = false;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or("a { has no matching }")?;
                let part = match &after[..end] {
                    "first" => Part::First,
                    "last" => Part::Last,
                    "f" => Part::FirstInitial,
                    "l" => Part::LastInitial,
                    other => return Err(format!("unknown placeholder {{{other}}}")),
                };
                has_name = true;
                parts.push(part);
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let lit = &rest[..end];
                if !lit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                {
                    return Err(format!(
                        "{lit:?} may hold only letters, digits, '.', '_' and '-'"
                    ));
                }
                parts.push(Part::Literal(lit.to_lowercase()));
                rest = &rest[end..];
            }
        }
        if !has_name {
            return Err("a pattern needs {first}, {last}, {f} or {l}".into());
        }
        Ok(Self(parts))
    }

    /// The base username for a person (before making it unique).
    pub fn render(&self, given: &str, family: &str) -> String {
        let first = fold(given);
        let last = fold(family);
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::First => out.push_str(&first),
                Part::Last => out.push_str(&last),
                Part::FirstInitial => out.extend(first.chars().next()),
                Part::LastInitial => out.extend(last.chars().next()),
            }
        }
        let trimmed = out
            .trim_matches(|c| matches!(c, '.' | '_' | '-'))
            .to_string();
        if trimmed.is_empty() {
            "user".into()
        } else {
            trimmed.chars().take(48).collect()
        }
    }

    /// The first of `base`, `base2`, `base3`… not in `taken`.
    pub fn unique(&self, given: &str, family: &str, taken: &dyn Fn(&str) -> bool) -> String {
        let base = self.render(given, family);
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|c| !taken(c))
            .unwrap_or(base)
    }
}

/// Lower-case ASCII letters and digits only; common accented letters lose their accent.
fn fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'ž' | 'ź' | 'ż' => 'z',
            'š' | 'ś' => 's',
            'ł' => 'l',
            c => c,
        };
        if mapped.is_ascii_alphanumeric() {
            out.push(mapped);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn patterns_render_and_stay_unique() {
        let p = UsernamePattern::parse("{first}.{last}").unwrap();
        assert_eq!(p.render("José", "O'Brien-Núñez"), "jose.obriennunez");
        let p2 = UsernamePattern::parse("{f}{last}").unwrap();
        assert_eq!(p2.render("Ana", "Smith"), "asmith");
        let taken = |s: &str| s == "asmith" || s == "asmith2";
        assert_eq!(p2.unique("Ana", "Smith", &taken), "asmith3");
        assert!(UsernamePattern::parse("{middle}").is_err());
        assert!(UsernamePattern::parse("hmis").is_err());
        assert!(UsernamePattern::parse("{first} {last}").is_err());
        assert!(UsernamePattern::parse("coc_{f}{last}").is_ok());
    }

    proptest! {
        #[test]
        fn rendered_names_are_safe(g in "\\PC{0,20}", f in "\\PC{0,20}") {
            let p = UsernamePattern::parse("{first}.{last}").unwrap();
            let u = p.render(&g, &f);
            prop_assert!(!u.is_empty());
            prop_assert!(u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.'));
        }
    }
}

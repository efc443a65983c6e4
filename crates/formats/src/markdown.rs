//! Markdown written by authors (agreement texts, course pages) rendered to HTML that is
//! safe to put in a page: raw HTML is shown as text, links keep only `http`, `https` and
//! `mailto` targets (any other becomes plain text), and images are replaced by their
//! alternative text.

use pulldown_cmark::{html, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Whether a link target may stay a link.
fn allowed_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Renders Markdown to HTML with raw HTML escaped, unsafe links dropped to text and no
/// images (their alt text is kept).
pub fn render_safe(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // For every link opened, whether it was kept, so its end is dropped with it.
    let mut links: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|e| match e {
        // Raw HTML becomes text that shows the markup instead of running it.
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            // An email autolink's target has no scheme; the writer adds `mailto:`.
            let keep =
                link_type == LinkType::Email && !dest_url.contains(':') || allowed_url(&dest_url);
            links.push(keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => links
            .pop()
            .unwrap_or(false)
            .then_some(Event::End(TagEnd::Link)),
        // An image's alt text arrives as the text events between its start and end.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::InlineMath(s) | Event::DisplayMath(s) => Some(Event::Code(s)),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The plain text of a Markdown document's first heading, if it has one.
pub fn first_heading(markdown: &str) -> Option<String> {
    let mut in_heading = false;
    let mut text = String::new();
    for e in Parser::new(markdown) {
        match e {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) if in_heading => return Some(text.trim().to_string()),
            Event::Text(t) | Event::Code(t) if in_heading => text.push_str(&t),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tag in the output is one Markdown makes, with only harmless attributes, and
    /// every link target is a web or mail address.
    fn no_active_markup(html: &str) {
        const TAGS: [&str; 26] = [
            "p",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "em",
            "strong",
            "del",
            "a",
            "ul",
            "ol",
            "li",
            "code",
            "pre",
            "blockquote",
            "hr",
            "br",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "sup",
        ];
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            let after = &rest[i + 1..];
            let end = after.find('>').unwrap_or(after.len());
            let tag = &after[..end];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(TAGS.contains(&name.as_str()), "tag <{tag}> in {html}");
            for attr in tag.split_whitespace().skip(1) {
                let key = attr.split('=').next().unwrap_or("");
                // Pieces of a quoted title have no `=`; every real attribute is one of these.
                assert!(
                    !attr.contains('=')
                        || ["href", "title", "start", "style", "class"].contains(&key),
                    "attribute {attr} in {html}"
                );
                if key == "style" {
                    assert!(
                        attr.starts_with("style=\"text-align:"),
                        "style {attr} in {html}"
                    );
                }
                if key == "href" {
                    let url = attr.trim_start_matches("href=\"").to_ascii_lowercase();
                    assert!(
                        url.starts_with("http://")
                            || url.starts_with("https://")
                            || url.starts_with("mailto:"),
                        "link {attr} in {html}"
                    );
                }
            }
            rest = &after[end..];
        }
    }

    #[test]
    #[should_panic(expected = "tag <img")]
    fn the_checker_catches_an_image() {
        no_active_markup("<p><img src=x onerror=alert(1)></p>");
    }

    #[test]
    #[should_panic(expected = "link href")]
    fn the_checker_catches_a_script_link() {
        no_active_markup("<p><a href=\"javascript:alert(1)\">x</a></p>");
    }

    #[test]
    fn renders_ordinary_markdown() {
        let html = render_safe("# End-user agreement\n\nI **will** keep client data *confidential*.\n\n1. One\n2. Two\n\n[HUD](https://www.hud.gov/) and <https://example.org/x>");
        assert!(html.contains("<h1>End-user agreement</h1>"), "{html}");
        assert!(html.contains("<strong>will</strong>"), "{html}");
        assert!(html.contains("<em>confidential</em>"), "{html}");
        assert!(html.contains("<ol>"), "{html}");
        assert!(
            html.contains("<a href=\"https://www.hud.gov/\">HUD</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://example.org/x\">https://example.org/x</a>"),
            "{html}"
        );
        assert_eq!(
            first_heading("Intro\n\n## The `HMIS` rules\n").as_deref(),
            Some("The HMIS rules")
        );
        assert_eq!(first_heading("no heading"), None);
    }

    #[test]
    fn script_blocks_are_shown_as_text() {
        let html = render_safe("<script>alert(1)</script>\n\nafter");
        no_active_markup(&html);
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<p>after</p>"), "{html}");
        let inline = render_safe("Hello <script>alert(1)</script> world");
        no_active_markup(&inline);
        assert!(inline.contains("Hello &lt;script&gt;"), "{inline}");
    }

    #[test]
    fn event_handlers_in_raw_html_are_inert() {
        for src in [
            "<img src=x onerror=alert(1)>",
            "text <img src=x onerror=alert(1)> more",
            "<div onclick=\"alert(1)\">click</div>",
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            "<svg onload=alert(1)>",
            "<style>body{display:none}</style>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = render_safe(src);
            no_active_markup(&html);
            assert!(html.contains("&lt;"), "{src} → {html}");
        }
    }

    #[test]
    fn only_web_and_mail_links_stay_links() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](  javascript:alert(1)  )",
            "[x](java&#115;cript:alert(1))",
            "[x](vbscript:msgbox(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](/relative/path)",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            let html = render_safe(src);
            no_active_markup(&html);
            assert!(!html.contains("<a"), "{src} → {html}");
            assert!(html.contains('x'), "the link text stays: {src} → {html}");
        }
        let ok = render_safe("[write](mailto:help@example.org) or [web](http://example.org \"t\")");
        assert!(
            ok.contains("<a href=\"mailto:help@example.org\">write</a>"),
            "{ok}"
        );
        assert!(
            ok.contains("<a href=\"http://example.org\" title=\"t\">web</a>"),
            "{ok}"
        );
    }

    #[test]
    fn autolinks_are_checked_like_links() {
        let bad = render_safe("<javascript:alert(1)>");
        no_active_markup(&bad);
        assert!(!bad.contains("<a"), "{bad}");
        assert!(bad.contains("javascript:alert(1)"), "the text stays: {bad}");
        let email = render_safe("<help@example.org>");
        assert!(
            email.contains("<a href=\"mailto:help@example.org\">help@example.org</a>"),
            "{email}"
        );
        let web = render_safe("<https://example.org/a?b=1&c=2>");
        assert!(
            web.contains("<a href=\"https://example.org/a?b=1&amp;c=2\">"),
            "{web}"
        );
        let quote = render_safe("[x](https://example.org/\"onmouseover=\"alert(1))");
        assert!(!quote.contains("\"onmouseover"), "{quote}");
    }

    #[test]
    fn images_become_their_alt_text() {
        for src in [
            "![a cat](https://example.org/cat.png)",
            "![a cat](javascript:alert(1))",
            "[![a cat](https://x.org/c.png)](https://x.org/)",
        ] {
            let html = render_safe(src);
            no_active_markup(&html);
            assert!(html.contains("a cat"), "{src} → {html}");
        }
        let linked = render_safe("[![a cat](https://x.org/c.png)](https://x.org/)");
        assert!(
            linked.contains("<a href=\"https://x.org/\">a cat</a>"),
            "{linked}"
        );
    }

    #[test]
    fn code_keeps_markup_as_text() {
        let html = render_safe("`<b>` and\n\n```\n<script>x</script>\n```\n");
        no_active_markup(&html);
        assert!(html.contains("<code>&lt;b&gt;</code>"), "{html}");
    }
}

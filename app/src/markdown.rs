//! Markdown from agents, models and people, rendered to HTML that is safe to insert: raw
//! HTML is shown as text, links keep only `http:`, `https:`, `mailto:` and local targets
//! (anything else, such as `javascript:`, loses its link), and images become their alt text
//! with no request made (no remote images, no tracking pixels). Everything else is escaped by
//! `pulldown-cmark`'s HTML writer.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Whether a link target may stay a link.
fn safe_link(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:")
    {
        return true;
    }
    // Relative targets: a path, a query or a fragment, never a scheme (`javascript:`,
    // `data:`, `vbscript:`) nor a protocol-relative `//host`.
    let scheme_like = url
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|first| first.contains(':'));
    !scheme_like && !url.starts_with("//") && !url.starts_with("\\\\")
}

/// `text` as Markdown, rendered to safe HTML.
pub fn to_safe_html(text: &str) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    // Inside an image, its alt text is collected instead of rendered.
    let mut image_alt: Option<String> = None;
    let mut open_links: Vec<bool> = Vec::new();
    let events = Parser::new_ext(text, options).filter_map(|event| {
        if let Some(alt) = image_alt.as_mut() {
            return match event {
                Event::End(TagEnd::Image) => {
                    let alt = image_alt.take().unwrap_or_default();
                    Some(Event::Text(CowStr::from(format!("[image: {alt}]"))))
                }
                Event::Text(t) | Event::Code(t) => {
                    alt.push_str(&t);
                    None
                }
                _ => None,
            };
        }
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::Start(Tag::Image { .. }) => {
                image_alt = Some(String::new());
                None
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = safe_link(&dest_url);
                open_links.push(keep);
                if keep {
                    Some(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }))
                } else {
                    None
                }
            }
            Event::End(TagEnd::Link) => {
                if open_links.pop().unwrap_or(true) {
                    Some(Event::End(TagEnd::Link))
                } else {
                    None
                }
            }
            other => Some(other),
        }
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_nothing_executable_survives() {
        assert_eq!(
            to_safe_html("**bold** `code`"),
            "<p><strong>bold</strong> <code>code</code></p>\n"
        );
        let corpus = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click]( javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "![pixel](https://tracker.example/p.gif)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "[a](//evil.example)",
            "\"><script>alert(1)</script>",
            "<style>body{display:none}</style>",
        ];
        for payload in corpus {
            let html = to_safe_html(payload);
            let lower = html.to_lowercase();
            // Text may mention anything (escaped); no element, attribute or link may survive.
            for bad in [
                "<script",
                "<img",
                "<svg",
                "<iframe",
                "<style",
                "<a href=\"javascript",
                "<a href=\"data:",
                "<a href=\"//",
            ] {
                assert!(!lower.contains(bad), "{payload:?} rendered {html:?}");
            }
        }
        assert!(to_safe_html("![pixel](https://tracker.example/p.gif)").contains("[image: pixel]"));
        assert!(to_safe_html("<b>x</b>").contains("&lt;b&gt;"));
        assert_eq!(
            to_safe_html("[docs](https://example.com/a?b=1)"),
            "<p><a href=\"https://example.com/a?b=1\">docs</a></p>\n"
        );
        assert!(to_safe_html("[run](/runs#x)").contains("href=\"/runs#x\""));
    }
}

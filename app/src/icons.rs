//! Inline SVG icons (24×24 grid, stroked with `currentColor`), so they follow the text colour
//! and need no extra request.

use leptos::prelude::*;

/// Every icon the shell uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Dashboard,
    Runs,
    Workflows,
    Datasets,
    Agents,
    Logs,
    Alerts,
    Approvals,
    Settings,
    Menu,
    Panel,
    Search,
    Bell,
    User,
    Send,
    Close,
    Keyboard,
    Shield,
}

impl Icon {
    /// The SVG body: shapes only, drawn on a 24×24 view box.
    fn body(self) -> &'static str {
        match self {
            Self::Dashboard => {
                r#"<rect x="3" y="3" width="7" height="9" rx="1"/><rect x="14" y="3" width="7" height="5" rx="1"/><rect x="14" y="12" width="7" height="9" rx="1"/><rect x="3" y="16" width="7" height="5" rx="1"/>"#
            }
            Self::Runs => {
                r#"<circle cx="5" cy="6" r="2"/><circle cx="5" cy="18" r="2"/><circle cx="19" cy="12" r="2"/><path d="M7 6h4l6 6M7 18h4l6-6"/>"#
            }
            Self::Datasets => {
                r#"<ellipse cx="12" cy="5" rx="8" ry="3"/><path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3"/>"#
            }
            Self::Workflows => {
                r#"<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M7 9h10M7 13h6M7 17h4"/>"#
            }
            Self::Agents => {
                r#"<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.8-3.6 3.4-5.5 6.5-5.5s5.7 1.9 6.5 5.5"/><circle cx="17.5" cy="9" r="2.5"/><path d="M17 14.6c2.4.3 4 1.9 4.5 4.6"/>"#
            }
            Self::Logs => r#"<path d="M4 6h16M4 10h12M4 14h16M4 18h9"/>"#,
            Self::Alerts => {
                r#"<path d="M12 3l9.5 17h-19z"/><path d="M12 10v4.5"/><circle cx="12" cy="17.3" r=".6"/>"#
            }
            Self::Approvals => {
                r#"<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M8 12l3 3 5-6"/>"#
            }
            Self::Settings => {
                r#"<circle cx="12" cy="12" r="3"/><path d="M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1"/>"#
            }
            Self::Menu => r#"<path d="M4 6h16M4 12h16M4 18h16"/>"#,
            Self::Panel => {
                r#"<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M15 4v16"/>"#
            }
            Self::Search => r#"<circle cx="11" cy="11" r="6.5"/><path d="M16 16l4.5 4.5"/>"#,
            Self::Bell => r#"<path d="M6 17V11a6 6 0 0112 0v6l1.5 2h-15z"/><path d="M10 21h4"/>"#,
            Self::User => {
                r#"<circle cx="12" cy="8" r="4"/><path d="M4 21c1-4 4.2-6 8-6s7 2 8 6"/>"#
            }
            Self::Send => r#"<path d="M4 12l16-8-6 16-2.5-6.5z"/><path d="M11.5 13.5L20 4"/>"#,
            Self::Close => r#"<path d="M6 6l12 12M18 6L6 18"/>"#,
            Self::Shield => {
                r#"<path d="M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6z"/><path d="M9 12l2 2 4-4"/>"#
            }
            Self::Keyboard => {
                r#"<rect x="2.5" y="6" width="19" height="12" rx="2"/><path d="M6 10h1M10 10h1M14 10h1M18 10h0M7 14h10"/>"#
            }
        }
    }
}

/// An icon as inline SVG, hidden from screen readers (buttons carry their own labels).
#[component]
pub fn IconSvg(icon: Icon) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="20"
            height="20"
            fill="none"
            stroke="currentColor"
            stroke-width="1.7"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            inner_html=icon.body()
        ></svg>
    }
}

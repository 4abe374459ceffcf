//! The product's sections, in sidebar order. One list feeds the sidebar, breadcrumbs, the
//! global search and the `g`-prefixed shortcuts, so adding a section is one line here plus its
//! route in `lib.rs`.

use crate::icons::Icon;

/// One sidebar section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub path: &'static str,
    pub label: &'static str,
    pub icon: Icon,
    /// The key that follows `g` to jump here (`g r` → Runs).
    pub go_key: char,
    /// One line for the search results and the empty state.
    pub summary: &'static str,
}

pub const SECTIONS: [Section; 9] = [
    Section {
        path: "/",
        label: "Dashboard",
        icon: Icon::Dashboard,
        go_key: 'd',
        summary: "System health, live metrics and the agent graph",
    },
    Section {
        path: "/runs",
        label: "Runs",
        icon: Icon::Runs,
        go_key: 'r',
        summary: "Goals planned into DAGs and their steps",
    },
    Section {
        path: "/workflows",
        label: "Workflows",
        icon: Icon::Workflows,
        go_key: 'w',
        summary: "Saved plans with parameters: forms and API routes",
    },
    Section {
        path: "/datasets",
        label: "Datasets",
        icon: Icon::Datasets,
        go_key: 't',
        summary: "Tables checked and kept in the store, with their quality scores",
    },
    Section {
        path: "/agents",
        label: "Agents",
        icon: Icon::Agents,
        go_key: 'a',
        summary: "Departments, their tools and external agents",
    },
    Section {
        path: "/logs",
        label: "Logs",
        icon: Icon::Logs,
        go_key: 'l',
        summary: "The live log stream from runs and agents",
    },
    Section {
        path: "/alerts",
        label: "Alerts",
        icon: Icon::Alerts,
        go_key: 'e',
        summary: "Alert rules, guardrails and what fired",
    },
    Section {
        path: "/approvals",
        label: "Approvals",
        icon: Icon::Approvals,
        go_key: 'p',
        summary: "Risky steps waiting for a person",
    },
    Section {
        path: "/settings",
        label: "Settings",
        icon: Icon::Settings,
        go_key: 's',
        summary: "Models, storage, users and keys",
    },
];

/// The section a path belongs to (`/runs/123` → Runs), if any.
pub fn section_for(path: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| {
        if s.path == "/" {
            path == "/"
        } else {
            path == s.path || path.starts_with(&format!("{}/", s.path))
        }
    })
}

/// Pages outside the sidebar's sections: the admin page (admins only) and the account page.
pub const OTHER_PAGES: [(&str, &str); 2] = [("/admin", "Admin"), ("/account", "Account")];

/// What the breadcrumb calls the page at `path`.
pub fn page_label(path: &str) -> &'static str {
    section_for(path).map(|s| s.label).unwrap_or_else(|| {
        OTHER_PAGES
            .iter()
            .find(|(p, _)| *p == path)
            .map_or("Not found", |(_, label)| label)
    })
}

/// Sections whose label or summary contains `query` (case-insensitive), label matches first.
pub fn search(query: &str) -> Vec<&'static Section> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let mut by_label: Vec<_> = SECTIONS
        .iter()
        .filter(|s| s.label.to_lowercase().contains(&query))
        .collect();
    let by_summary = SECTIONS.iter().filter(|s| {
        !s.label.to_lowercase().contains(&query) && s.summary.to_lowercase().contains(&query)
    });
    by_label.extend(by_summary);
    by_label
}

/// The section reached by `g` then `key`.
pub fn go_target(key: char) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.go_key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_sections() {
        assert_eq!(section_for("/").unwrap().label, "Dashboard");
        assert_eq!(section_for("/runs").unwrap().label, "Runs");
        assert_eq!(section_for("/runs/0192").unwrap().label, "Runs");
        assert!(section_for("/runsx").is_none());
        assert!(section_for("/nope").is_none());
        assert_eq!(page_label("/runs/1"), "Runs");
        assert_eq!(page_label("/admin"), "Admin");
        assert_eq!(page_label("/nope"), "Not found");
    }

    #[test]
    fn search_prefers_label_matches_and_ignores_case() {
        let hits: Vec<_> = search("RUN").iter().map(|s| s.label).collect();
        assert_eq!(
            hits,
            ["Runs", "Logs"],
            "Runs by label, then Logs by its summary"
        );
        assert!(search("   ").is_empty());
        let agents: Vec<_> = search("tools").iter().map(|s| s.label).collect();
        assert_eq!(agents, ["Agents"]);
    }

    #[test]
    fn go_keys_are_unique() {
        for (i, a) in SECTIONS.iter().enumerate() {
            for b in &SECTIONS[i + 1..] {
                assert_ne!(a.go_key, b.go_key, "{} and {}", a.label, b.label);
            }
            assert_eq!(go_target(a.go_key), Some(a));
        }
    }
}

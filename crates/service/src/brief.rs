//! Short forms of long values for titles and list rows: a run id's tail, text clipped to a
//! number of characters.

/// `…` and the id's last 8 characters: enough to tell runs apart in a title.
pub fn short_run_id(run_id: &str) -> String {
    let tail: String = run_id
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// `text` cut to `chars` characters, with `…` when something was cut.
pub fn clipped(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(chars).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(
            short_run_id("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            "…2e3f4a5b"
        );
        assert_eq!(short_run_id("ab"), "…ab");
        assert_eq!(clipped("short", 10), "short");
        assert_eq!(clipped("ééééé", 3), "ééé…");
    }
}

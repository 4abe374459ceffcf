//! Reading a cookie out of `Cookie` request headers (shared by the server's session guard
//! and the app's server functions).

/// The value of cookie `name` among `headers` (each a `Cookie` header's value); empty
/// values count as absent.
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_named_cookie_across_headers() {
        let headers = ["a=1; switchyard_access=tok", "b=2"];
        assert_eq!(
            super::find(headers, "switchyard_access").as_deref(),
            Some("tok")
        );
        assert_eq!(super::find(headers, "b").as_deref(), Some("2"));
        assert_eq!(super::find(["x="], "x"), None);
        assert_eq!(super::find(headers, "missing"), None);
    }
}

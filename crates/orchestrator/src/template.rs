//! Template references: a step's input reading an earlier step's output.
//!
//! Inside any JSON string of a step's input, `{{steps.KEY.output}}` stands for the whole output
//! of step `KEY`, and `{{steps.KEY.output.a.0.b}}` for a part of it (object keys and array
//! indexes, separated by dots). A string that is exactly one template is replaced by the
//! referenced JSON value, whatever its type; a template inside a longer string is replaced by
//! the value's text.

use std::collections::HashMap;

use serde_json::Value;

/// One `{{steps.KEY.output…}}` found in an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    /// The referenced step's key.
    pub step: String,
    /// Path inside that step's output; empty for the whole output.
    pub path: Vec<String>,
    /// JSON pointer of the string holding the template, within the input (`""` for the root).
    pub location: String,
}

/// A template that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub location: String,
    pub message: String,
}

/// Every reference in `value`, and every malformed template.
pub fn references(value: &Value) -> (Vec<TemplateRef>, Vec<TemplateError>) {
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    walk(value, &mut String::new(), &mut |text, location| {
        for piece in scan(text) {
            match piece {
                Piece::Expr(expr) => match parse_expr(expr) {
                    Some((step, path)) => refs.push(TemplateRef {
                        step,
                        path,
                        location: location.to_owned(),
                    }),
                    None => errors.push(TemplateError {
                        location: location.to_owned(),
                        message: format!(
                            "template '{{{{{expr}}}}}' is not of the form {{{{steps.KEY.output.PATH}}}}"
                        ),
                    }),
                },
                Piece::Unclosed => errors.push(TemplateError {
                    location: location.to_owned(),
                    message: "'{{' without a closing '}}'".into(),
                }),
                Piece::Text(_) => {}
            }
        }
    });
    (refs, errors)
}

/// True if `text` is exactly one well-formed template (surrounding whitespace aside). Such a
/// value is replaced by JSON of any type, so schema checks of its type wait until run time.
pub fn is_whole_template(text: &str) -> bool {
    let pieces: Vec<_> = scan(text.trim()).collect();
    matches!(pieces.as_slice(), [Piece::Expr(expr)] if parse_expr(expr).is_some())
}

/// Top-level input fields whose schema marks them `"x-verbatim": true`: passed to the tool as
/// they are, because the templates inside belong to something else (a child plan's own
/// references, for `subrun`). They are neither checked nor rendered against this run.
pub fn verbatim_fields(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p["x-verbatim"] == Value::Bool(true))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `input` without its `verbatim` fields, and those fields apart.
pub fn split_verbatim(input: &Value, verbatim: &[String]) -> (Value, Vec<(String, Value)>) {
    let mut rest = input.clone();
    let mut kept = Vec::new();
    if let Some(object) = rest.as_object_mut() {
        for name in verbatim {
            if let Some(value) = object.remove(name) {
                kept.push((name.clone(), value));
            }
        }
    }
    (rest, kept)
}

/// Replaces every template in `value` with data from `outputs` (step key → output).
/// Fails with a message naming the first reference that cannot be resolved.
pub fn render(value: &Value, outputs: &HashMap<String, Value>) -> Result<Value, String> {
    match value {
        Value::String(text) => render_string(text, outputs),
        Value::Array(items) => items
            .iter()
            .map(|item| render(item, outputs))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| render(v, outputs).map(|v| (k.clone(), v)))
            .collect::<Result<_, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

fn render_string(text: &str, outputs: &HashMap<String, Value>) -> Result<Value, String> {
    let lookup = |expr: &str| -> Result<Value, String> {
        let (step, path) =
            parse_expr(expr).ok_or_else(|| format!("malformed template '{{{{{expr}}}}}'"))?;
        let mut current = outputs
            .get(&step)
            .ok_or_else(|| format!("step '{step}' has no output yet"))?;
        for segment in &path {
            current = match current {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(|| format!("output of step '{step}' has no '{}'", path.join(".")))?;
        }
        Ok(current.clone())
    };
    if is_whole_template(text) {
        let expr = match scan(text.trim()).next() {
            Some(Piece::Expr(expr)) => expr,
            _ => unreachable!("is_whole_template checked the shape"),
        };
        return lookup(expr);
    }
    let mut out = String::with_capacity(text.len());
    for piece in scan(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(expr) => match lookup(expr)? {
                Value::String(s) => out.push_str(&s),
                other => out.push_str(&other.to_string()),
            },
            Piece::Unclosed => return Err("'{{' without a closing '}}'".into()),
        }
    }
    Ok(Value::String(out))
}

enum Piece<'a> {
    Text(&'a str),
    Expr(&'a str),
    Unclosed,
}

/// Splits text into literal text and `{{…}}` expressions.
fn scan(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || rest.is_empty() {
            return None;
        }
        match rest.find("{{") {
            Some(0) => match rest[2..].find("}}") {
                Some(end) => {
                    let expr = &rest[2..2 + end];
                    rest = &rest[2 + end + 2..];
                    Some(Piece::Expr(expr))
                }
                None => {
                    done = true;
                    Some(Piece::Unclosed)
                }
            },
            Some(start) => {
                let text = &rest[..start];
                rest = &rest[start..];
                Some(Piece::Text(text))
            }
            None => {
                let text = rest;
                rest = "";
                Some(Piece::Text(text))
            }
        }
    })
}

/// `steps.KEY.output(.SEG)*` → (KEY, SEGs).
fn parse_expr(expr: &str) -> Option<(String, Vec<String>)> {
    let mut parts = expr.trim().split('.');
    if parts.next()? != "steps" {
        return None;
    }
    let key = parts.next()?;
    if key.is_empty() || parts.next()? != "output" {
        return None;
    }
    let path: Vec<String> = parts.map(str::to_owned).collect();
    if path
        .iter()
        .any(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return None;
    }
    Some((key.to_owned(), path))
}

/// Calls `visit(text, json_pointer)` for every string in `value`.
fn walk(value: &Value, pointer: &mut String, visit: &mut impl FnMut(&str, &str)) {
    match value {
        Value::String(text) => visit(text, pointer),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(item, pointer, visit);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(item, pointer, visit);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_references_with_their_locations() {
        let input = json!({
            "url": "{{steps.fetch.output.url}}",
            "note": "got {{ steps.fetch.output.status }} from {{steps.dns.output}}",
            "list": [1, "{{steps.a.output.items.0}}"]
        });
        let (refs, errors) = references(&input);
        assert!(errors.is_empty(), "{errors:?}");
        // Objects are walked in their map's order: sorted keys, or the input's order where
        // serde_json's `preserve_order` is on (mistral.rs turns it on in the server). Within
        // one string, references keep their order.
        let mut found: Vec<_> = refs
            .iter()
            .map(|r| (r.location.as_str(), r.step.as_str(), r.path.join(".")))
            .collect();
        found.sort_by_key(|(location, ..)| *location);
        assert_eq!(
            found,
            [
                ("/list/1", "a", "items.0".to_owned()),
                ("/note", "fetch", "status".to_owned()),
                ("/note", "dns", String::new()),
                ("/url", "fetch", "url".to_owned()),
            ]
        );
    }

    #[test]
    fn malformed_templates_are_reported_where_they_stand() {
        let (refs, errors) =
            references(&json!({"a": "{{steps.x}}", "b": "{{ oops", "c": "{{env.HOME}}"}));
        assert!(refs.is_empty());
        let at: Vec<_> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(at, ["/a", "/b", "/c"]);
        assert!(errors[1].message.contains("without a closing"));
        assert!(
            errors[2].message.contains("{{env.HOME}}"),
            "{}",
            errors[2].message
        );
    }

    #[test]
    fn whole_templates_keep_their_type_and_embedded_ones_become_text() {
        let outputs = HashMap::from([(
            "fetch".to_owned(),
            json!({"status": 200, "tags": ["a", "b"], "url": "https://x"}),
        )]);
        let input = json!({
            "code": "{{steps.fetch.output.status}}",
            "tags": " {{steps.fetch.output.tags}} ",
            "line": "status={{steps.fetch.output.status}} first={{steps.fetch.output.tags.0}}",
            "plain": 7
        });
        assert_eq!(
            render(&input, &outputs).unwrap(),
            json!({"code": 200, "tags": ["a", "b"], "line": "status=200 first=a", "plain": 7})
        );
        assert!(is_whole_template(" {{steps.fetch.output}} "));
        assert!(!is_whole_template("x {{steps.fetch.output}}"));
        let missing = render(&json!("{{steps.fetch.output.nope}}"), &outputs).unwrap_err();
        assert_eq!(missing, "output of step 'fetch' has no 'nope'");
        let absent = render(&json!("{{steps.later.output}}"), &outputs).unwrap_err();
        assert_eq!(absent, "step 'later' has no output yet");
    }
}

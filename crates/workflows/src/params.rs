//! A template's parameters: their JSON Schema, the `{{params.…}}` references in its plan, and
//! the values a caller gives.
//!
//! Inside any JSON string of the plan, `{{params.NAME}}` stands for a parameter and
//! `{{params.NAME.FIELD}}` for a field of an object parameter. A string that is exactly one
//! reference is replaced by the value itself, whatever its type (a number stays a number); a
//! reference inside a longer string is replaced by the value's text. Other templates
//! (`{{steps.KEY.output}}`) are left for the engine.

use serde_json::{Map, Value};

/// One problem, placed: `field` is a JSON pointer into what was checked (`/email`,
/// `/address/city`; `""` for the whole value), or the name of the part of a template that is
/// wrong (`params_schema`, `plan`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A checked parameter schema, ready to check values.
pub struct ParamsSchema {
    schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ParamsSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamsSchema")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl ParamsSchema {
    /// Checks that `schema` is a JSON Schema for an object (`"type": "object"`) and compiles
    /// it, with `format` checked (date, email, uri, …).
    pub fn new(schema: &Value) -> Result<Self, FieldError> {
        let field = "params_schema";
        let Some(object) = schema.as_object() else {
            return Err(FieldError::new(
                field,
                "must be a JSON object (a JSON Schema)",
            ));
        };
        if object.get("type") != Some(&Value::String("object".into())) {
            return Err(FieldError::new(
                field,
                "must describe an object: \"type\": \"object\", with the parameters under \"properties\"",
            ));
        }
        if let Some(properties) = object.get("properties")
            && !properties.is_object()
        {
            return Err(FieldError::new(field, "\"properties\" must be an object"));
        }
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| FieldError::new(field, format!("not a valid JSON Schema: {e}")))?;
        Ok(Self {
            schema: schema.clone(),
            validator,
        })
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// `values` with defaults filled in, or every problem placed at its field. `null` or no
    /// body counts as `{}`.
    pub fn check(&self, values: &Value) -> Result<Value, Vec<FieldError>> {
        let values = match values {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        };
        let values = with_defaults(&self.schema, values);
        let errors: Vec<FieldError> = self
            .validator
            .iter_errors(&values)
            .map(|e| {
                let at = e.instance_path().to_string();
                // A missing property is placed at the property, where a form shows it.
                let field = match e.kind() {
                    jsonschema::error::ValidationErrorKind::Required {
                        property: Value::String(name),
                    } => format!("{at}/{}", name.replace('~', "~0").replace('/', "~1")),
                    _ => at,
                };
                FieldError::new(field, e.to_string())
            })
            .collect();
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    /// Whether `path` (`["address", "city"]`) names a property the schema declares.
    pub fn declares(&self, path: &[String]) -> bool {
        let mut schema = &self.schema;
        for part in path {
            match schema.get("properties").and_then(|p| p.get(part)) {
                Some(inner) => schema = inner,
                None => return false,
            }
        }
        true
    }

    /// Values that fit the schema as well as can be guessed without a person: defaults, the
    /// first of an `enum`, the minimum of a number, a well-formed date, email or URI. A plan
    /// is rendered with them when it is saved, so that it is checked as it will run.
    pub fn sample(&self) -> Value {
        sample(&self.schema)
    }
}

/// Fills in the `default` of every property that `value` lacks, in nested objects too.
fn with_defaults(schema: &Value, value: Value) -> Value {
    let (Some(properties), Value::Object(mut object)) = (
        schema.get("properties").and_then(Value::as_object),
        value.clone(),
    ) else {
        return value;
    };
    for (name, property) in properties {
        match object.remove(name) {
            Some(present) => {
                object.insert(name.clone(), with_defaults(property, present));
            }
            None => {
                if let Some(default) = property.get("default") {
                    object.insert(name.clone(), default.clone());
                }
            }
        }
    }
    Value::Object(object)
}

fn sample(schema: &Value) -> Value {
    for key in ["default", "const"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    for key in ["enum", "examples"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return first.clone();
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ => "string",
    };
    let number = |name: &str| schema.get(name).and_then(Value::as_f64);
    match kind {
        "object" => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), sample(property));
                }
            }
            Value::Object(object)
        }
        "array" => {
            let items = schema.get("items").map(sample).unwrap_or(Value::Null);
            let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            Value::Array((0..count).map(|_| items.clone()).collect())
        }
        "integer" => {
            let low = number("minimum")
                .or(number("exclusiveMinimum").map(|m| m.floor() + 1.0))
                .unwrap_or(0.0);
            Value::from(low.ceil() as i64)
        }
        "number" => {
            let low = number("minimum")
                .or(number("exclusiveMinimum").map(|m| m + 1.0))
                .unwrap_or(0.0);
            serde_json::Number::from_f64(low).map_or(Value::from(0), Value::Number)
        }
        "boolean" => Value::Bool(false),
        "null" => Value::Null,
        _ => {
            let text = match schema.get("format").and_then(Value::as_str) {
                Some("date") => "2026-01-01".to_owned(),
                Some("date-time") => "2026-01-01T00:00:00Z".to_owned(),
                Some("email") => "someone@example.com".to_owned(),
                Some("uri" | "url") => "https://example.com/".to_owned(),
                _ => {
                    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                    "sample".chars().cycle().take(min.max(6) as usize).collect()
                }
            };
            Value::String(text)
        }
    }
}

/// One `{{params.…}}` in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRef {
    /// The parameter and the fields inside it: `["address", "city"]`.
    pub path: Vec<String>,
    /// JSON pointer of the string that holds it, within the plan.
    pub location: String,
}

/// Every `{{params.…}}` in `plan`, and every one that cannot be read (placed at its string).
pub fn references(plan: &Value) -> (Vec<ParamRef>, Vec<FieldError>) {
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    walk(plan, &mut String::new(), &mut |text, location| {
        for expr in expressions(text) {
            match expr {
                Ok(Some(path)) => refs.push(ParamRef {
                    path,
                    location: location.to_owned(),
                }),
                Ok(None) => {}
                Err(message) => errors.push(FieldError::new(format!("plan{location}"), message)),
            }
        }
    });
    (refs, errors)
}

/// `plan` with every `{{params.…}}` replaced by its value in `values`. A reference to a
/// parameter that was not given becomes `null` (a whole string) or nothing (inside text).
pub fn render(plan: &Value, values: &Value) -> Value {
    match plan {
        Value::String(text) => render_text(text, values),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, values)).collect()),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| (k.clone(), render(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_text(text: &str, values: &Value) -> Value {
    let trimmed = text.trim();
    if let Some(inner) = trimmed
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        && !inner.contains("{{")
        && !inner.contains("}}")
        && let Ok(Some(path)) = parse(inner)
    {
        return lookup(values, &path).cloned().unwrap_or(Value::Null);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        match parse(inner) {
            Ok(Some(path)) => match lookup(values, &path) {
                Some(Value::String(s)) => out.push_str(s),
                Some(Value::Null) | None => {}
                Some(other) => out.push_str(&other.to_string()),
            },
            _ => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Value::String(out)
}

fn lookup<'a>(values: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(values, |value, part| value.get(part))
}

/// The `{{…}}` expressions of `text`: `Ok(Some(path))` for a parameter, `Ok(None)` for
/// another kind of template, `Err` for a malformed parameter reference.
fn expressions(text: &str) -> Vec<Result<Option<Vec<String>>, String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        found.push(parse(&rest[start + 2..start + len]));
        rest = &rest[start + len + 2..];
    }
    found
}

fn parse(expr: &str) -> Result<Option<Vec<String>>, String> {
    let expr = expr.trim();
    let Some(tail) = expr.strip_prefix("params") else {
        return Ok(None);
    };
    let malformed = || {
        format!(
            "template '{{{{{expr}}}}}' is not of the form {{{{params.NAME}}}} or {{{{params.NAME.FIELD}}}}"
        )
    };
    let Some(tail) = tail.strip_prefix('.') else {
        return if tail.is_empty() || !tail.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            Err(malformed())
        } else {
            Ok(None) // `paramsX`: not ours
        };
    };
    let path: Vec<String> = tail.split('.').map(str::to_owned).collect();
    let ok = path.iter().all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if ok { Ok(Some(path)) } else { Err(malformed()) }
}

fn walk(value: &Value, location: &mut String, visit: &mut impl FnMut(&str, &str)) {
    match value {
        Value::String(text) => visit(text, location),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = location.len();
                location.push_str(&format!("/{i}"));
                walk(item, location, visit);
                location.truncate(len);
            }
        }
        Value::Object(object) => {
            for (key, item) in object {
                let len = location.len();
                location.push('/');
                location.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(item, location, visit);
                location.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> ParamsSchema {
        ParamsSchema::new(&json!({
            "type": "object",
            "required": ["email", "count"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "count": {"type": "integer", "minimum": 1, "maximum": 5},
                "tier": {"type": "string", "enum": ["free", "pro"], "default": "free"},
                "address": {"type": "object", "properties": {"city": {"type": "string", "default": "Paris"}}}
            }
        }))
        .unwrap()
    }

    #[test]
    fn values_are_checked_field_by_field_with_defaults_filled_in() {
        let schema = schema();
        let ok = schema
            .check(&json!({"email": "a@b.example", "count": 2, "address": {}}))
            .unwrap();
        assert_eq!(ok["tier"], "free");
        assert_eq!(ok["address"]["city"], "Paris");
        let errors = schema
            .check(&json!({"email": "not an email", "count": 9}))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"/email"), "{errors:?}");
        assert!(fields.contains(&"/count"), "{errors:?}");
        let missing = schema.check(&Value::Null).unwrap_err();
        assert!(
            missing
                .iter()
                .any(|e| e.field == "/email" && e.message.contains("email")),
            "{missing:?}"
        );
    }

    #[test]
    fn a_schema_must_describe_an_object() {
        for bad in [
            json!([]),
            json!({"type": "string"}),
            json!({"type": "object", "properties": 3}),
        ] {
            let err = ParamsSchema::new(&bad).unwrap_err();
            assert_eq!(err.field, "params_schema", "{err:?}");
        }
        let err =
            ParamsSchema::new(&json!({"type": "object", "properties": {"a": {"type": "nope"}}}))
                .unwrap_err();
        assert!(err.message.contains("not a valid JSON Schema"), "{err:?}");
    }

    #[test]
    fn references_are_found_and_placed() {
        let plan = json!({"steps": [{"input": {"to": "{{params.email}}", "text": "Hi {{ params.address.city }} {{steps.a.output}}", "bad": "{{params.}}"}}]});
        let (refs, errors) = references(&plan);
        let paths: Vec<Vec<String>> = refs.iter().map(|r| r.path.clone()).collect();
        assert!(paths.contains(&vec!["email".to_owned()]));
        assert!(paths.contains(&vec!["address".to_owned(), "city".to_owned()]));
        assert_eq!(refs.len(), 2, "{refs:?}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "plan/steps/0/input/bad");
        let schema = schema();
        assert!(refs.iter().all(|r| schema.declares(&r.path)));
        assert!(!schema.declares(&["address".into(), "zip".into()]));
    }

    #[test]
    fn rendering_keeps_types_for_whole_strings_and_text_inside() {
        let plan = json!({"n": "{{params.count}}", "t": "x={{params.count}} {{params.tier}}{{params.none}}", "s": "{{steps.a.output}}", "o": " {{params.address}} "});
        let out = render(
            &plan,
            &json!({"count": 3, "tier": "pro", "address": {"city": "Oslo"}}),
        );
        assert_eq!(out["n"], json!(3));
        assert_eq!(out["t"], json!("x=3 pro"));
        assert_eq!(out["s"], json!("{{steps.a.output}}"));
        assert_eq!(out["o"], json!({"city": "Oslo"}));
    }

    #[test]
    fn samples_fit_their_schema() {
        let schema = schema();
        let sample = schema.sample();
        assert_eq!(sample["count"], json!(1));
        assert_eq!(sample["tier"], json!("free"));
        assert!(schema.check(&sample).is_ok(), "{sample}");
    }
}

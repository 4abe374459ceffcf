//! A form generated from a workflow template's parameter schema (JSON Schema).
//!
//! The supported subset: `string` (with `enum` as a choice, `pattern`, `minLength`/`maxLength`,
//! `format` `date`, `email` and `uri` as the browser's inputs of those kinds), `number` and
//! `integer` (`minimum`/`maximum`), `boolean`, arrays of those scalars (one item per line),
//! nested `object`s with `properties`, `required`, `default`, `title` and `description`.
//! A property using anything else (`oneOf`, `$ref`, arrays of objects, …) gets a JSON field.
//! The form checks nothing itself: the server does, and its problems appear next to the
//! fields they name (`errors`, keyed by JSON pointer).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::{Map, Value};

/// Problems by field: JSON pointer (`/email`) → message(s).
pub type FieldErrors = BTreeMap<String, String>;

/// How a property is edited.
#[derive(Debug, Clone, PartialEq)]
enum Control {
    /// A text input of this HTML type (`text`, `date`, `email`, `url`).
    Text(&'static str),
    Choice(Vec<Value>),
    Number {
        integer: bool,
    },
    Boolean,
    /// One scalar per line, each read as this item type.
    List(&'static str),
    Object,
    Json,
}

/// Keywords the form understands; a property with any other keyword falls back to JSON.
const UNDERSTOOD: [&str; 17] = [
    "type",
    "title",
    "description",
    "default",
    "enum",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "properties",
    "required",
    "minItems",
    "maxItems",
    "examples",
];

fn control(schema: &Value) -> Control {
    let Some(object) = schema.as_object() else {
        return Control::Json;
    };
    if object.keys().any(|k| !UNDERSTOOD.contains(&k.as_str())) {
        return Control::Json;
    }
    if let Some(choices) = object.get("enum").and_then(Value::as_array) {
        return Control::Choice(choices.clone());
    }
    match object.get("type").and_then(Value::as_str) {
        Some("string") => Control::Text(match object.get("format").and_then(Value::as_str) {
            Some("date") => "date",
            Some("email") => "email",
            Some("uri" | "url") => "url",
            _ => "text",
        }),
        Some("integer") => Control::Number { integer: true },
        Some("number") => Control::Number { integer: false },
        Some("boolean") => Control::Boolean,
        Some("array") => {
            let items = object.get("items").unwrap_or(&Value::Null);
            let simple = items.as_object().is_some_and(|i| {
                i.keys().all(|k| UNDERSTOOD.contains(&k.as_str())) && !i.contains_key("enum")
            });
            match items.get("type").and_then(Value::as_str) {
                Some(kind @ ("string" | "number" | "integer" | "boolean")) if simple => {
                    Control::List(match kind {
                        "string" => "string",
                        "number" => "number",
                        "integer" => "integer",
                        _ => "boolean",
                    })
                }
                _ => Control::Json,
            }
        }
        Some("object") if object.contains_key("properties") => Control::Object,
        _ => Control::Json,
    }
}

/// The starting values: every `default`, in nested objects too; booleans false.
pub fn initial_values(schema: &Value) -> Value {
    let mut values = Map::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let value = match (property.get("default"), control(property)) {
                (Some(default), _) => Some(default.clone()),
                (None, Control::Object) => Some(initial_values(property)),
                (None, Control::Boolean) => Some(Value::Bool(false)),
                _ => None,
            };
            if let Some(value) = value {
                values.insert(name.clone(), value);
            }
        }
    }
    Value::Object(values)
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn dom_id(path: &[String]) -> String {
    format!("param-{}", path.join("-"))
}

/// Sets (or with `None` removes) the value at `path`, making objects on the way.
fn set_at(values: RwSignal<Value>, path: &[String], value: Option<Value>) {
    values.update(|root| {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = root;
        for part in parents {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node = node
                .as_object_mut()
                .expect("made an object above")
                .entry(part.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let object = node.as_object_mut().expect("made an object above");
        match value {
            Some(value) => {
                object.insert(last.clone(), value);
            }
            None => {
                object.remove(last);
            }
        }
    });
}

fn get_at(values: &Value, path: &[String]) -> Option<Value> {
    path.iter()
        .try_fold(values, |node, part| node.get(part))
        .cloned()
}

fn as_text(value: Option<Value>) -> String {
    match value {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A number as typed: a number when it reads as one, else the text (the server then says
/// what is wrong with it); nothing when empty.
fn read_number(text: &str, integer: bool) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = if integer {
        text.parse::<i64>().ok().map(Value::from)
    } else {
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    };
    Some(parsed.unwrap_or_else(|| Value::String(text.to_owned())))
}

fn read_item(text: &str, kind: &str) -> Value {
    match kind {
        "integer" => read_number(text, true).unwrap_or(Value::Null),
        "number" => read_number(text, false).unwrap_or(Value::Null),
        "boolean" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// The form's fields for an object schema (the parameters themselves, or a nested object).
#[component]
pub fn SchemaFields(
    schema: Value,
    values: RwSignal<Value>,
    errors: RwSignal<FieldErrors>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    object_fields(&schema, Vec::new(), values, errors, disabled)
}

fn object_fields(
    schema: &Value,
    path: Vec<String>,
    values: RwSignal<Value>,
    errors: RwSignal<FieldErrors>,
    disabled: Signal<bool>,
) -> AnyView {
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let properties: Vec<(String, Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, property)| {
            let mut at = path.clone();
            at.push(name.clone());
            let is_required = required.contains(&name);
            field(name, property, at, is_required, values, errors, disabled)
        })
        .collect_view()
        .into_any()
}

fn field(
    name: String,
    schema: Value,
    path: Vec<String>,
    required: bool,
    values: RwSignal<Value>,
    errors: RwSignal<FieldErrors>,
    disabled: Signal<bool>,
) -> AnyView {
    let id = dom_id(&path);
    let key = pointer(&path);
    let label = schema
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_owned();
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let error = {
        let key = key.clone();
        move || errors.with(|e| e.get(&key).cloned())
    };
    let error_id = format!("{id}-error");
    // Always there, empty when optional: text followed by an optional element hydrates wrong.
    let star = if required { " *" } else { "" };
    let control = control(&schema);
    if control == Control::Object {
        let inner = object_fields(&schema, path.clone(), values, errors, disabled);
        return view! {
            <fieldset class="schema-object" data-field=key.clone()>
                <legend>
                    <span>{label}</span>
                    <span class="required" aria-hidden="true">{star}</span>
                </legend>
                {description.map(|d| view! { <p class="muted field-help">{d}</p> })}
                {inner}
                {move || error().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            </fieldset>
        }
        .into_any();
    }
    let input = input_for(
        control,
        &schema,
        path,
        id.clone(),
        required,
        values,
        disabled,
    );
    let has_error = error.clone();
    view! {
        <div class="field schema-field" data-field=key.clone() class:has-error=move || has_error().is_some()>
            <label for=id.clone()>
                <span>{label}</span>
                <span class="required" aria-hidden="true">{star}</span>
            </label>
            {input}
            {description.map(|d| view! { <p class="muted field-help">{d}</p> })}
            {move || {
                error().map(|e| view! { <p class="field-error" id=error_id.clone() role="alert">{e}</p> })
            }}
        </div>
    }
    .into_any()
}

fn input_for(
    control: Control,
    schema: &Value,
    path: Vec<String>,
    id: String,
    required: bool,
    values: RwSignal<Value>,
    disabled: Signal<bool>,
) -> AnyView {
    let number = |key: &str| schema.get(key).map(Value::to_string);
    let text_at = {
        let path = path.clone();
        move || values.with(|v| as_text(get_at(v, &path)))
    };
    match control {
        Control::Text(kind) => {
            let pattern = schema
                .get("pattern")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let max_length = number("maxLength");
            view! {
                <input
                    id=id
                    type=kind
                    pattern=pattern
                    maxlength=max_length
                    aria-required=required.to_string()
                    disabled=move || disabled.get()
                    prop:value=text_at
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        set_at(values, &path, (!text.is_empty()).then_some(Value::String(text)));
                    }
                />
            }
            .into_any()
        }
        Control::Number { integer } => {
            let (min, max) = (number("minimum"), number("maximum"));
            view! {
                <input
                    id=id
                    type="number"
                    inputmode=if integer { "numeric" } else { "decimal" }
                    step=if integer { "1" } else { "any" }
                    min=min
                    max=max
                    aria-required=required.to_string()
                    disabled=move || disabled.get()
                    prop:value=text_at
                    on:input=move |ev| set_at(values, &path, read_number(&event_target_value(&ev), integer))
                />
            }
            .into_any()
        }
        Control::Boolean => {
            let checked = {
                let path = path.clone();
                move || values.with(|v| get_at(v, &path) == Some(Value::Bool(true)))
            };
            view! {
                <input
                    id=id
                    type="checkbox"
                    class="checkbox"
                    disabled=move || disabled.get()
                    prop:checked=checked
                    on:change=move |ev| set_at(values, &path, Some(Value::Bool(event_target_checked(&ev))))
                />
            }
            .into_any()
        }
        Control::Choice(choices) => {
            let current = {
                let path = path.clone();
                move || values.with(|v| get_at(v, &path).map(|v| v.to_string()).unwrap_or_default())
            };
            let options = choices
                .into_iter()
                .map(|choice| {
                    let encoded = choice.to_string();
                    let shown = as_text(Some(choice));
                    let selected = {
                        let encoded = encoded.clone();
                        let current = current.clone();
                        move || current() == encoded
                    };
                    view! { <option value=encoded selected=selected>{shown}</option> }
                })
                .collect_view();
            view! {
                <select
                    id=id
                    aria-required=required.to_string()
                    disabled=move || disabled.get()
                    on:change=move |ev| {
                        let encoded = event_target_value(&ev);
                        set_at(values, &path, serde_json::from_str(&encoded).ok());
                    }
                >
                    <option value="" selected=move || current().is_empty()>"— choose —"</option>
                    {options}
                </select>
            }
            .into_any()
        }
        Control::List(kind) => {
            let lines = {
                let path = path.clone();
                move || {
                    values.with(|v| match get_at(v, &path) {
                        Some(Value::Array(items)) => items
                            .into_iter()
                            .map(|i| as_text(Some(i)))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        _ => String::new(),
                    })
                }
            };
            view! {
                <textarea
                    id=id
                    rows="3"
                    class="list-input"
                    placeholder="One per line"
                    aria-required=required.to_string()
                    disabled=move || disabled.get()
                    prop:value=lines
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        let items: Vec<Value> = text
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(|l| read_item(l, kind))
                            .collect();
                        set_at(values, &path, Some(Value::Array(items)));
                    }
                ></textarea>
            }
            .into_any()
        }
        Control::Json | Control::Object => {
            let shown = {
                let path = path.clone();
                move || {
                    values.with(|v| {
                        get_at(v, &path)
                            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                            .unwrap_or_default()
                    })
                }
            };
            let unreadable = RwSignal::new(None::<String>);
            view! {
                <textarea
                    id=id
                    rows="4"
                    class="code json-input"
                    placeholder="JSON"
                    aria-required=required.to_string()
                    disabled=move || disabled.get()
                    prop:value=shown
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        if text.trim().is_empty() {
                            unreadable.set(None);
                            set_at(values, &path, None);
                            return;
                        }
                        match serde_json::from_str::<Value>(&text) {
                            Ok(value) => {
                                unreadable.set(None);
                                set_at(values, &path, Some(value));
                            }
                            Err(e) => unreadable.set(Some(format!("not JSON: {e}"))),
                        }
                    }
                ></textarea>
                {move || unreadable.get().map(|e| view! { <p class="field-error">{e}</p> })}
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_supported_keyword_picks_its_control() {
        assert_eq!(control(&json!({"type": "string"})), Control::Text("text"));
        assert_eq!(
            control(&json!({"type": "string", "format": "date"})),
            Control::Text("date")
        );
        assert_eq!(
            control(&json!({"type": "string", "format": "email"})),
            Control::Text("email")
        );
        assert_eq!(
            control(&json!({"type": "string", "format": "uri"})),
            Control::Text("url")
        );
        assert_eq!(
            control(&json!({"type": "string", "enum": ["a", "b"]})),
            Control::Choice(vec![json!("a"), json!("b")])
        );
        assert_eq!(
            control(&json!({"type": "integer", "minimum": 1})),
            Control::Number { integer: true }
        );
        assert_eq!(
            control(&json!({"type": "number"})),
            Control::Number { integer: false }
        );
        assert_eq!(control(&json!({"type": "boolean"})), Control::Boolean);
        assert_eq!(
            control(&json!({"type": "array", "items": {"type": "integer"}})),
            Control::List("integer")
        );
        assert_eq!(
            control(&json!({"type": "object", "properties": {}})),
            Control::Object
        );
        // Outside the subset: JSON.
        assert_eq!(
            control(&json!({"oneOf": [{"type": "string"}]})),
            Control::Json
        );
        assert_eq!(
            control(&json!({"type": "array", "items": {"type": "object"}})),
            Control::Json
        );
        assert_eq!(control(&json!({"type": "object"})), Control::Json);
    }

    #[test]
    fn initial_values_take_defaults_and_booleans() {
        let schema = json!({"type": "object", "properties": {
            "tier": {"type": "string", "default": "free"},
            "notify": {"type": "boolean"},
            "name": {"type": "string"},
            "address": {"type": "object", "properties": {"city": {"type": "string", "default": "Paris"}}}
        }});
        assert_eq!(
            initial_values(&schema),
            json!({"tier": "free", "notify": false, "address": {"city": "Paris"}})
        );
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(read_number("3", true), Some(json!(3)));
        assert_eq!(read_number("2.5", false), Some(json!(2.5)));
        assert_eq!(read_number("2.5", true), Some(json!("2.5")));
        assert_eq!(read_number("  ", true), None);
    }
}

//! Whole numbers as JSON carries them: `23` and also `23.0`.
//!
//! JSON has one number type, and JSON Schema's `integer` matches any number without a
//! fraction, so a client (or a generator working from the API's document) may send `23.0`
//! where the API asks for an integer. serde refuses a float for an integer field; request
//! fields that take integers use these instead: `#[serde(deserialize_with =
//! "crate::whole::integer")]`, or [`option`] for optional ones.

use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Number;

/// An integer of type `T` from a JSON number without a fraction that fits `T`.
pub fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    convert(Number::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// As [`integer`], for an optional field (`null` or absent is `None`).
pub fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    Option::<Number>::deserialize(deserializer)?
        .map(convert)
        .transpose()
        .map_err(D::Error::custom)
}

fn convert<T: TryFrom<i64> + TryFrom<u64>>(number: Number) -> Result<T, String> {
    let converted = if let Some(n) = number.as_u64() {
        T::try_from(n).ok()
    } else if let Some(n) = number.as_i64() {
        T::try_from(n).ok()
    } else {
        // Within ±2^53 a float holds whole numbers exactly.
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
            .and_then(|f| T::try_from(f as i64).ok())
    };
    converted.ok_or_else(|| {
        format!(
            "invalid value: {number}, expected a whole number that fits {}",
            std::any::type_name::<T>()
        )
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::integer")]
        count: u32,
        #[serde(default, deserialize_with = "super::option")]
        at: Option<i64>,
    }

    fn parse(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_floats_are_integers_and_the_rest_is_refused_by_name() {
        let body = parse(r#"{"count": 23.0, "at": -5}"#).unwrap();
        assert_eq!((body.count, body.at), (23, Some(-5)));
        assert_eq!(parse(r#"{"count": 7}"#).unwrap().at, None);
        assert_eq!(parse(r#"{"count": 7, "at": null}"#).unwrap().at, None);
        assert_eq!(parse(r#"{"count": 7, "at": 1e3}"#).unwrap().at, Some(1000));
        for bad in [
            r#"{"count": 2.5}"#,
            r#"{"count": -1}"#,
            r#"{"count": 4294967296}"#,
            r#"{"count": "3"}"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.contains("count") || err.contains("expected"),
                "{bad}: {err}"
            );
        }
        assert!(
            parse(r#"{"count": 2.5}"#)
                .unwrap_err()
                .contains("whole number that fits u32")
        );
    }
}

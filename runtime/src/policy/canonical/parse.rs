//! Strict JSON parsing into a `serde_json::Value`, refusing duplicate keys.
//!
//! `serde_json::Value`'s own `Deserialize` keeps the last of two identical keys, as Go does; this parser
//! builds the same `Value` through its own `DeserializeSeed`, checking each object's keys as they arrive,
//! and remembers the path it is at so that errors can name it. Nesting depth stays bounded by serde_json's
//! recursion limit (128), which this module never disables.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::path::{render, Seg};
use super::CanonError;

/// Parses one JSON value from `bytes`, strictly: refuses a body over `max_bytes`, invalid JSON or UTF-8,
/// anything but whitespace after the value, nesting deeper than 128, and any object (at any depth, free-form
/// maps included) that has the same key twice. Keys are compared after unescaping, so `"Privil\u0065ged"`
/// and `"Privileged"` are the same key.
pub fn parse_strict(bytes: &[u8], max_bytes: usize) -> Result<Value, CanonError> {
    if bytes.len() > max_bytes {
        return Err(CanonError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let mut ctx = Ctx {
        path: Vec::new(),
        fault: None,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = ValueSeed { ctx: &mut ctx }.deserialize(&mut de);
    let result = parsed.and_then(|value| de.end().map(|()| value));
    result.map_err(|err| {
        ctx.fault.take().unwrap_or_else(|| CanonError::Syntax {
            path: render(&ctx.path),
            message: err.to_string(),
        })
    })
}

/// Parser state shared by the nested seeds: the current path and a fault the visitor found.
struct Ctx {
    path: Vec<Seg<'static>>,
    fault: Option<CanonError>,
}

/// Deserializes one JSON value (and everything inside it) into a `Value`.
struct ValueSeed<'c> {
    ctx: &'c mut Ctx,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            // The index stays on the path if the element fails, so the error names it.
            self.ctx.path.push(Seg::Index(items.len()));
            let item = seq.next_element_seed(ValueSeed { ctx: &mut *self.ctx })?;
            self.ctx.path.pop();
            match item {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                let object = render(&self.ctx.path);
                self.ctx.path.push(Seg::Key(Cow::Owned(key.clone())));
                let path = render(&self.ctx.path);
                self.ctx.fault = Some(CanonError::DuplicateKey { path, key, object });
                return Err(de::Error::custom("duplicate key"));
            }
            // The key moves onto the path while its value is parsed, then into the map.
            self.ctx.path.push(Seg::Key(Cow::Owned(key)));
            let value = access.next_value_seed(ValueSeed { ctx: &mut *self.ctx })?;
            let Some(Seg::Key(key)) = self.ctx.path.pop() else {
                unreachable!("the key pushed above is on top of the path")
            };
            map.insert(key.into_owned(), value);
        }
        Ok(Value::Object(map))
    }
}

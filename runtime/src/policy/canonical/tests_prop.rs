//! Property tests over random bodies built from the schema's own field names (deterministic generator).

use serde_json::{Map, Value};

use super::schema::{schema, Schema, Shape};
use super::*;

/// splitmix64: small, deterministic, good enough to pick fields and values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const MAX_DEPTH: usize = 6;

/// Keys for free-form maps: anything goes there, including keys that look like fields or fold oddly.
const MAP_KEYS: &[&str] = &[
    "a",
    "A",
    "80/tcp",
    "com.example.label",
    "ſ",
    "\u{212A}",
    "",
    "quote\"d",
    "nul\u{0}",
    "emoji😀",
    "Privileged",
    "privileged",
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "/var/run/docker.sock:/sock",
    "é ſ \u{212A}",
    "line\nbreak",
    "\u{0}",
    "\"q\"\\",
];

/// Builds random values of a shape. With `mutate_at = Some(n)`, the n-th struct key it writes is replaced by a
/// case variant of the field name, and `mutated` records `(variant, field)`.
struct Gen<'s> {
    rng: Rng,
    schema: &'s Schema,
    mutate_at: Option<usize>,
    struct_keys: usize,
    mutated: Option<(String, String)>,
}

impl Gen<'_> {
    fn value(&mut self, shape: &Shape, depth: usize) -> Value {
        if depth > 0 && self.rng.one_in(25) {
            return Value::Null;
        }
        match shape {
            Shape::Scalar => self.scalar(),
            Shape::Array(item) => {
                let n = if depth >= MAX_DEPTH { 0 } else { self.rng.below(4) };
                Value::Array((0..n).map(|_| self.value(item, depth + 1)).collect())
            }
            Shape::Map(val) => {
                let n = if depth >= MAX_DEPTH { 0 } else { self.rng.below(4) };
                let mut map = Map::new();
                for _ in 0..n {
                    let key = self.rng.pick(MAP_KEYS).to_string();
                    if map.contains_key(&key) {
                        continue; // (a replaced value could hide a mutation)
                    }
                    let v = self.value(val, depth + 1);
                    map.insert(key, v);
                }
                Value::Object(map)
            }
            Shape::Struct(id) => {
                let def = self.schema.struct_def(*id);
                let fields: Vec<(&str, &Shape)> = def
                    .fields()
                    .filter(|(_, s)| depth < MAX_DEPTH || matches!(s, Shape::Scalar))
                    .collect();
                let mut map = Map::new();
                if fields.is_empty() {
                    return Value::Object(map);
                }
                for _ in 0..self.rng.below(fields.len().min(6) + 1) {
                    let (field, field_shape) = *self.rng.pick(&fields);
                    if map.contains_key(field) {
                        continue;
                    }
                    let mut key = field.to_string();
                    if self.mutate_at == Some(self.struct_keys) {
                        key = self.variant(field);
                        self.mutated = Some((key.clone(), field.to_string()));
                    }
                    self.struct_keys += 1;
                    let v = self.value(field_shape, depth + 1);
                    map.insert(key, v);
                }
                Value::Object(map)
            }
        }
    }

    fn scalar(&mut self) -> Value {
        match self.rng.below(6) {
            0 => Value::Bool(self.rng.one_in(2)),
            1 => Value::from(self.rng.next() as i64),
            2 => Value::from(self.rng.next()),
            // Eighths parse exactly; serde_json without `float_roundtrip` may be 1 ULP off on long fractions.
            3 => Value::from((self.rng.next() % 100_000_000) as f64 / 8.0 - 1e6),
            4 => Value::from(self.rng.below(100)),
            _ => Value::from(*self.rng.pick(STRINGS)),
        }
    }

    /// A key the daemon would match to `field` that is not `field` itself.
    fn variant(&mut self, field: &str) -> String {
        let swapped: String = field
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let mut candidates = vec![swapped, field.to_ascii_lowercase(), field.to_ascii_uppercase()];
        if let Some(i) = field.find(['s', 'S']) {
            candidates.push(format!("{}ſ{}", &field[..i], &field[i + 1..]));
        }
        if let Some(i) = field.find(['k', 'K']) {
            candidates.push(format!("{}\u{212A}{}", &field[..i], &field[i + 1..]));
        }
        candidates.retain(|c| c != field);
        self.rng.pick(&candidates).clone()
    }
}

/// Asserts every key in a struct position is exactly a field of that struct; returns how many it saw.
fn assert_keys_exact(schema: &Schema, shape: &Shape, value: &Value) -> usize {
    match (shape, value) {
        (Shape::Array(item), Value::Array(items)) => {
            items.iter().map(|v| assert_keys_exact(schema, item, v)).sum()
        }
        (Shape::Map(val), Value::Object(map)) => {
            map.values().map(|v| assert_keys_exact(schema, val, v)).sum()
        }
        (Shape::Struct(id), Value::Object(map)) => {
            let def = schema.struct_def(*id);
            map.iter()
                .map(|(k, v)| {
                    let field_shape = def
                        .field(k)
                        .unwrap_or_else(|| panic!("{k} is not a field of {}", def.name()));
                    1 + assert_keys_exact(schema, field_shape, v)
                })
                .sum()
        }
        _ => 0,
    }
}

fn generator(seed: u64, mutate_at: Option<usize>) -> Gen<'static> {
    Gen {
        rng: Rng(seed),
        schema: schema(),
        mutate_at,
        struct_keys: 0,
        mutated: None,
    }
}

#[test]
fn random_schema_bodies_are_accepted_and_idempotent() {
    let mut keys_seen = 0;
    for (k, kind) in BodyKind::ALL.into_iter().enumerate() {
        for i in 0..200u64 {
            let mut g = generator(k as u64 * 1_000_003 + i, None);
            let value = g.value(schema().root(kind), 0);
            let bytes = if i % 2 == 0 {
                serde_json::to_vec(&value)
            } else {
                serde_json::to_vec_pretty(&value)
            }
            .unwrap();
            let first = canonicalize(kind, &bytes)
                .unwrap_or_else(|e| panic!("{kind} #{i} refused: {e}\n{}", String::from_utf8_lossy(&bytes)));
            assert_eq!(first, value, "{kind} #{i}: value changed");
            let canonical = to_canonical_bytes(&first);
            let second = canonicalize(kind, &canonical).expect("canonical bytes are accepted");
            assert_eq!(second, first, "{kind} #{i}: not idempotent");
            assert_eq!(
                to_canonical_bytes(&second),
                canonical,
                "{kind} #{i}: bytes not idempotent"
            );
            keys_seen += assert_keys_exact(schema(), schema().root(kind), &second);
        }
    }
    assert!(keys_seen > 10_000, "generator too weak: {keys_seen} struct keys");
}

/// A random body with one key spelled in another case: an ASCII variant is renamed (the body reads as
/// if spelled exactly) unless the object also has the field (refused: two spellings); a non-ASCII one
/// (`ſ`, `\u{212A}`) is refused.
#[test]
fn random_case_variants_are_renamed_or_refused() {
    let (mut renamed, mut refused) = (0, 0);
    for (k, kind) in BodyKind::ALL.into_iter().enumerate() {
        for i in 0..100u64 {
            let mut g = generator(0xC0FFEE + k as u64 * 7919 + i, Some((i % 4) as usize));
            let value = g.value(schema().root(kind), 0);
            let Some((variant, field)) = g.mutated.take() else {
                continue;
            };
            match canonicalize(kind, &serde_json::to_vec(&value).unwrap()) {
                Ok(v) => {
                    assert!(variant.is_ascii(), "{kind} #{i}: {variant} accepted");
                    let expected = respelled(schema(), schema().root(kind), &value, &variant, &field);
                    assert_eq!(v, expected, "{kind} #{i}");
                    renamed += 1;
                }
                Err(CanonError::CaseVariant {
                    key, field: f, path, ..
                }) => {
                    assert!(!key.is_ascii(), "{kind} #{i}: ASCII {key} refused");
                    assert_eq!((&key, &f), (&variant, &field), "{kind} #{i}");
                    assert!(path.ends_with(variant.as_str()), "{path}");
                    refused += 1;
                }
                Err(CanonError::SecondSpelling { key, field: f, .. }) => {
                    assert_eq!((&key, &f), (&variant, &field), "{kind} #{i}");
                    refused += 1;
                }
                Err(other) => panic!("{kind} #{i}: {variant} for {field}: {other}"),
            }
        }
    }
    assert!(
        renamed > 400 && refused > 100,
        "{renamed} renamed, {refused} refused"
    );
}

/// `value` with the struct key `variant` renamed to `field` (the generator writes it once; map keys stay).
fn respelled(schema: &Schema, shape: &Shape, value: &Value, variant: &str, field: &str) -> Value {
    match (shape, value) {
        (Shape::Array(item), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|v| respelled(schema, item, v, variant, field))
                .collect(),
        ),
        (Shape::Map(inner), Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), respelled(schema, inner, v, variant, field)))
                .collect(),
        ),
        (Shape::Struct(id), Value::Object(map)) => {
            let def = schema.struct_def(*id);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let k = if k == variant { field } else { k.as_str() };
                        let inner = def.field(k).expect("generated keys are fields or the variant");
                        (k.to_owned(), respelled(schema, inner, v, variant, field))
                    })
                    .collect(),
            )
        }
        (_, v) => v.clone(),
    }
}

#[test]
fn random_duplicate_keys_are_refused() {
    let mut tried = 0;
    for (k, kind) in BodyKind::ALL.into_iter().enumerate() {
        for i in 0..50u64 {
            let mut g = generator(0xD00D + k as u64 * 31 + i, None);
            let value = g.value(schema().root(kind), 0);
            let Value::Object(map) = &value else { continue };
            let Some((key, _)) = map.iter().next() else {
                continue;
            };
            // Prepend a second member with the first key: `{"K":"dup","K":...,...}`.
            let text = serde_json::to_string(&value).unwrap();
            let body = format!("{{{}:\"dup\",{}", serde_json::to_string(key).unwrap(), &text[1..]);
            let err = canonicalize(kind, body.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, CanonError::DuplicateKey { key: k, object, .. } if k == key && object.is_empty())
            );
            tried += 1;
        }
    }
    assert!(tried > 500, "only {tried} bodies");
}

//! Plain TOML values for the parts of a lock file pyward keeps but does not
//! interpret (`[tool]` tables, `dependencies` entries, attestation identity
//! keys): comparable, cloneable, and written back deterministically.

use std::collections::BTreeMap;

use toml_edit::{Array, InlineTable, Item, Value};

/// A TOML table with keys in sorted order.
pub type TomlTable = BTreeMap<String, TomlValue>;

#[derive(Debug, Clone, PartialEq)]
pub enum TomlValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(toml_edit::Datetime),
    Array(Vec<TomlValue>),
    Table(TomlTable),
}

impl TomlValue {
    pub(crate) fn from_item(item: &Item) -> Option<TomlValue> {
        match item {
            Item::None => None,
            Item::Value(v) => Some(TomlValue::from_value(v)),
            Item::Table(t) => Some(TomlValue::Table(table_from(t.iter()))),
            Item::ArrayOfTables(a) => Some(TomlValue::Array(
                a.iter()
                    .map(|t| TomlValue::Table(table_from(t.iter())))
                    .collect(),
            )),
        }
    }

    pub(crate) fn from_value(value: &Value) -> TomlValue {
        match value {
            Value::String(s) => TomlValue::String(s.value().clone()),
            Value::Integer(i) => TomlValue::Integer(*i.value()),
            Value::Float(f) => TomlValue::Float(*f.value()),
            Value::Boolean(b) => TomlValue::Boolean(*b.value()),
            Value::Datetime(d) => TomlValue::Datetime(*d.value()),
            Value::Array(a) => TomlValue::Array(a.iter().map(TomlValue::from_value).collect()),
            Value::InlineTable(t) => TomlValue::Table(
                t.iter()
                    .map(|(k, v)| (k.to_string(), TomlValue::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The value as an inline TOML value (tables become inline tables).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            TomlValue::String(s) => Value::from(s.as_str()),
            TomlValue::Integer(i) => Value::from(*i),
            TomlValue::Float(f) => Value::from(*f),
            TomlValue::Boolean(b) => Value::from(*b),
            TomlValue::Datetime(d) => Value::from(*d),
            TomlValue::Array(items) => {
                let mut array = Array::new();
                for item in items {
                    array.push(item.to_value());
                }
                Value::Array(array)
            }
            TomlValue::Table(table) => Value::InlineTable(inline_table(table)),
        }
    }
}

pub(crate) fn table_from<'a>(items: impl Iterator<Item = (&'a str, &'a Item)>) -> TomlTable {
    items
        .filter_map(|(k, v)| TomlValue::from_item(v).map(|v| (k.to_string(), v)))
        .collect()
}

pub(crate) fn inline_table(table: &TomlTable) -> InlineTable {
    let mut out = InlineTable::new();
    for (k, v) in table {
        out.insert(k, v.to_value());
    }
    out
}

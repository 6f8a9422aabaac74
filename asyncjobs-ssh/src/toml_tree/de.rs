//! serde reads a [`Node`] as the `toml` crate's deserializer would: the
//! same visits (integers as `i64`, `Spanned<T>` with the value's span).
//! Its errors carry no line and are never shown: any error sends the file
//! to the `toml` crate, whose error is the one reported.

use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::{Tree, Value};

/// A value of a [`Tree`], to deserialize.
#[derive(Clone, Copy)]
pub(crate) struct Node<'t, 'a> {
    tree: &'t Tree<'a>,
    id: u32,
}

impl<'t, 'a> Node<'t, 'a> {
    pub(super) fn new(tree: &'t Tree<'a>, id: u32) -> Node<'t, 'a> {
        Node { tree, id }
    }

    fn value(self) -> &'t Value<'a> {
        &self.tree.slots[self.id as usize].value
    }

    fn span(self) -> std::ops::Range<usize> {
        let s = &self.tree.slots[self.id as usize];
        s.start as usize..s.end as usize
    }
}

/// Why serde stopped (only to tell the caller to ask the `toml` crate).
#[derive(Debug)]
pub(crate) struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(msg: T) -> Refused {
        Refused(msg.to_string())
    }
}

impl<'de> IntoDeserializer<'de, Refused> for Node<'_, '_> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Node<'_, '_> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.value() {
            Value::Str(s) => visitor.visit_str(s),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Table(t) => visitor.visit_map(Entries {
                tree: self.tree,
                entries: t.entries.iter(),
                value: None,
            }),
            Value::Array { items, .. } => visitor.visit_seq(Items {
                tree: self.tree,
                items: items.iter(),
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        if serde_spanned::de::is_spanned(name) {
            let span = self.span();
            return visitor.visit_map(serde_spanned::de::SpannedDeserializer::new(self, span));
        }
        let _ = fields;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        match self.value() {
            Value::Str(s) => visitor.visit_enum(StrDeserializer::<Refused>::new(s)),
            _ => Err(de::Error::custom("an enum other than a string")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
        ignored_any
    }
}

struct Entries<'t, 'a> {
    tree: &'t Tree<'a>,
    entries: std::slice::Iter<'t, (std::borrow::Cow<'a, str>, u32)>,
    value: Option<u32>,
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let Some((key, node)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(*node);
        seed.deserialize(StrDeserializer::<Refused>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        match self.value.take() {
            Some(id) => seed.deserialize(Node::new(self.tree, id)),
            None => Err(de::Error::custom("a value without its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Items<'t, 'a> {
    tree: &'t Tree<'a>,
    items: std::slice::Iter<'t, u32>,
}

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        match self.items.next() {
            Some(id) => seed.deserialize(Node::new(self.tree, *id)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

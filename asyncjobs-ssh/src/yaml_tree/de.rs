//! serde reads a [`Node`]: `#[derive(Deserialize)]` structs get serde's own
//! messages (unknown field, missing field, invalid type), each error on the
//! line of the deepest node it came from and with its path (`jobs[2].label`).
//!
//! As serde_yaml did: a string field takes any scalar as its text (apssh
//! writes `id: 1`); numbers and booleans must be plain scalars; an empty
//! plain scalar is an empty sequence or mapping where one is expected; a
//! null is `None`; `deserialize_any` resolves a plain scalar's type
//! ([`Resolved`]). An enum is a string (a unit variant) or a mapping of one
//! key (the variant) to its content.

use std::fmt::Display;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Expected, MapAccess, SeqAccess, Unexpected, VariantAccess,
    Visitor,
};

use super::resolve::{self, Resolved};
use super::{Kind, Node, Step, YamlError};
use crate::scenario::ErrorKind;

impl de::Error for YamlError {
    fn custom<T: Display>(msg: T) -> YamlError {
        YamlError::new(ErrorKind::Syntax, 0, msg.to_string())
    }
}

type Result<T> = std::result::Result<T, YamlError>;

impl<'de> Node<'de> {
    /// What serde says it found, in an "invalid type" message.
    fn unexpected(self) -> Unexpected<'de> {
        match self.resolved() {
            None if self.items().is_some() => Unexpected::Seq,
            None => Unexpected::Map,
            Some(r) => match r {
                Resolved::Null => Unexpected::Unit,
                Resolved::Bool(b) => Unexpected::Bool(b),
                Resolved::Unsigned(n) => Unexpected::Unsigned(n),
                Resolved::Signed(n) => Unexpected::Signed(n),
                Resolved::BigUnsigned(_) | Resolved::BigSigned(_) => {
                    Unexpected::Other("a 128-bit integer")
                }
                Resolved::Float(f) => Unexpected::Float(f),
                Resolved::Str(s) => Unexpected::Str(s),
            },
        }
    }

    fn invalid(self, exp: &dyn Expected) -> YamlError {
        de::Error::invalid_type(self.unexpected(), exp)
    }

    /// A number or boolean: a plain scalar that `parse` reads, else an
    /// invalid type.
    fn typed<V: Visitor<'de>, T>(
        self,
        visitor: V,
        parse: impl FnOnce(&str) -> Option<T>,
        visit: impl FnOnce(V, T) -> Result<V::Value>,
    ) -> Result<V::Value> {
        let line = self.line();
        match self
            .scalar()
            .filter(|(_, plain)| *plain)
            .and_then(|(t, _)| parse(t))
        {
            Some(x) => visit(visitor, x),
            None => Err(self.invalid(&visitor)),
        }
        .map_err(|e| e.at(line))
    }

    /// An empty plain scalar, which stands for an empty collection.
    fn is_empty_scalar(self) -> bool {
        self.scalar() == Some(("", true))
    }
}

/// Forwards `deserialize_x` to `deserialize_y`.
macro_rules! forward {
    ($($from:ident => $to:ident),* $(,)?) => {$(
        fn $from<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.$to(visitor)
        }
    )*};
}

/// A number type read by a [`resolve`] parser.
macro_rules! number {
    ($($name:ident: $parse:ident, $t:ty, $visit:ident;)*) => {$(
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.typed(
                visitor,
                |t| resolve::$parse(t, <$t>::from_str_radix),
                |v, n| v.$visit(n),
            )
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Node<'de> {
    type Error = YamlError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let line = self.line();
        match (self.resolved(), self.slot().kind) {
            (Some(r), _) => match r {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(b) => visitor.visit_bool(b),
                Resolved::Unsigned(n) => visitor.visit_u64(n),
                Resolved::Signed(n) => visitor.visit_i64(n),
                Resolved::BigUnsigned(n) => visitor.visit_u128(n),
                Resolved::BigSigned(n) => visitor.visit_i128(n),
                Resolved::Float(f) => visitor.visit_f64(f),
                Resolved::Str(s) => visitor.visit_borrowed_str(s),
            },
            (None, Kind::Seq { .. }) => visitor.visit_seq(Items::of(self)),
            (None, _) => visitor.visit_map(Pairs::of(self)),
        }
        .map_err(|e| e.at(line))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.typed(visitor, resolve::parse_bool, |v, b| v.visit_bool(b))
    }

    number! {
        deserialize_i64: parse_signed, i64, visit_i64;
        deserialize_i128: parse_signed, i128, visit_i128;
        deserialize_u64: parse_unsigned, u64, visit_u64;
        deserialize_u128: parse_unsigned, u128, visit_u128;
    }

    forward! {
        deserialize_i8 => deserialize_i64,
        deserialize_i16 => deserialize_i64,
        deserialize_i32 => deserialize_i64,
        deserialize_u8 => deserialize_u64,
        deserialize_u16 => deserialize_u64,
        deserialize_u32 => deserialize_u64,
        deserialize_f32 => deserialize_f64,
        deserialize_char => deserialize_str,
        deserialize_string => deserialize_str,
        deserialize_identifier => deserialize_str,
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.typed(visitor, resolve::parse_f64, |v, f| v.visit_f64(f))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let line = self.line();
        match self.text() {
            Some(t) => visitor.visit_borrowed_str(t),
            None => Err(self.invalid(&visitor)),
        }
        .map_err(|e| e.at(line))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(YamlError::new(
            ErrorKind::Syntax,
            self.line(),
            "bytes are not supported in YAML",
        ))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
        .map_err(|e| e.at(self.line()))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.text() {
            _ if self.is_null() => visitor.visit_unit(),
            Some(t) => Err(de::Error::invalid_value(Unexpected::Str(t), &"null")),
            None => Err(self.invalid(&visitor)),
        }
        .map_err(|e| e.at(self.line()))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.at(self.line()))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // an empty plain scalar reads as no items (`Items::of` finds none)
        if matches!(self.slot().kind, Kind::Seq { .. }) || self.is_empty_scalar() {
            visitor.visit_seq(Items::of(self))
        } else {
            Err(self.invalid(&visitor))
        }
        .map_err(|e| e.at(self.line()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // an empty plain scalar reads as no pairs (`Pairs::of` finds none)
        if matches!(self.slot().kind, Kind::Map { .. }) || self.is_empty_scalar() {
            visitor.visit_map(Pairs::of(self))
        } else {
            Err(self.invalid(&visitor))
        }
        .map_err(|e| e.at(self.line()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let one_pair = self
            .pairs()
            .filter(|p| p.len() == 1)
            .and_then(|mut p| p.next());
        match (&self.slot().kind, one_pair) {
            (Kind::Scalar { .. }, _) => visitor.visit_enum(Variant {
                name: self,
                content: None,
            }),
            (_, Some((k, v))) => visitor.visit_enum(Variant {
                name: k,
                content: Some(v),
            }),
            (Kind::Map { .. }, None) => Err(de::Error::invalid_value(
                Unexpected::Map,
                &"a variant name, or a mapping of one variant name to its content",
            )),
            (Kind::Seq { .. }, None) => {
                Err(self.invalid(&"a variant name, or a mapping of one key"))
            }
        }
        .map_err(|e| e.at(self.line()))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// A sequence's items, read one by one.
struct Items<'de> {
    node: Node<'de>,
    ids: &'de [u32],
    next: usize,
}

impl<'de> Items<'de> {
    /// The items of `node`; none if it is not a sequence.
    fn of(node: Node<'de>) -> Items<'de> {
        let ids = match node.slot().kind {
            Kind::Seq { start, len } => node.children(start, len as usize),
            _ => &[],
        };
        Items { node, ids, next: 0 }
    }
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = YamlError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(&id) = self.ids.get(self.next) else {
            return Ok(None);
        };
        let (i, item) = (self.next, self.node.at(id));
        self.next += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.at(item.line()).within(Step::Index(i)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.ids.len() - self.next)
    }
}

/// A mapping's pairs, read one by one.
struct Pairs<'de> {
    node: Node<'de>,
    /// Keys and values alternating.
    ids: &'de [u32],
    /// The next key's index in `ids`.
    next: usize,
}

impl<'de> Pairs<'de> {
    /// The pairs of `node`; none if it is not a mapping.
    fn of(node: Node<'de>) -> Pairs<'de> {
        let ids = match node.slot().kind {
            Kind::Map { start, len } => node.children(start, 2 * len as usize),
            _ => &[],
        };
        Pairs { node, ids, next: 0 }
    }
}

impl<'de> MapAccess<'de> for Pairs<'de> {
    type Error = YamlError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(&id) = self.ids.get(self.next) else {
            return Ok(None);
        };
        let key = self.node.at(id);
        seed.deserialize(key)
            .map(Some)
            .map_err(|e| e.at(key.line()))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (Some(&k), Some(&v)) = (self.ids.get(self.next), self.ids.get(self.next + 1)) else {
            return Err(de::Error::custom("a value asked for before its key"));
        };
        self.next += 2;
        let (key, value) = (self.node.at(k), self.node.at(v));
        seed.deserialize(value).map_err(|e| {
            let step = Step::Key(key.text().unwrap_or("?").to_string());
            e.at(value.line()).within(step)
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.ids.len() - self.next) / 2)
    }
}

/// An enum's variant: its name, and its content when written as a mapping
/// of one key.
struct Variant<'de> {
    name: Node<'de>,
    content: Option<Node<'de>>,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = YamlError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let v = seed
            .deserialize(self.name)
            .map_err(|e| e.at(self.name.line()))?;
        Ok((v, self))
    }
}

impl<'de> Variant<'de> {
    /// The content, or an error naming what a bare name cannot be.
    fn content(&self, what: &'static str) -> Result<Node<'de>> {
        self.content.ok_or_else(|| {
            let e: YamlError = de::Error::invalid_type(Unexpected::UnitVariant, &what);
            e.at(self.name.line())
        })
    }
}

impl<'de> VariantAccess<'de> for Variant<'de> {
    type Error = YamlError;

    fn unit_variant(self) -> Result<()> {
        match self.content {
            None => Ok(()),
            Some(c) => <() as serde::Deserialize>::deserialize(c),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.content("newtype variant")?)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.content("tuple variant")?, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.content("struct variant")?, visitor)
    }
}

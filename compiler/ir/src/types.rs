//! Value types of the language, with nullability.
//!
//! Every expression has a kind and a nullability. Nullability is tracked so that the compiler can
//! say when a value may be missing, and so that back ends can skip validity work for values that
//! are never null.

use std::fmt;

use crate::CodeTypeIdx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type {
    pub kind: TypeKind,
    pub nullable: bool,
}

/// The kinds of values. Each has one Arrow representation, documented per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// Unicode text (Arrow `Utf8View`).
    Text,
    /// 64-bit signed integer (Arrow `Int64`).
    Int,
    /// Exact integer sen, never floating point (Arrow `Int64`).
    Money,
    /// A 64-bit floating-point number, for measures that are not money (Arrow `Float64`).
    Number,
    /// A calendar date (Arrow `Date32`).
    Date,
    /// A calendar month, held as its first day (Arrow `Date32`).
    Month,
    /// Arrow `Boolean`.
    Bool,
    /// A member of a code type, held as its index (Arrow `Dictionary(UInt32, Utf8)` on output).
    Code(CodeTypeIdx),
    /// The type of the `null` literal alone: it unifies with every other kind.
    Null,
    /// A list of values of one kind, sorted: the distinct values or the modes of a column, or a
    /// list written in the spec. Only file checks compute with lists (no Arrow representation).
    List(ListOf),
}

/// The element kind of a list (lists do not nest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListOf {
    Text,
    Int,
    Money,
    Number,
    Date,
    Month,
    Bool,
    Code(CodeTypeIdx),
}

impl ListOf {
    /// The element kind as a value kind, or `None` for kinds that cannot be listed.
    pub fn of(kind: TypeKind) -> Option<ListOf> {
        Some(match kind {
            TypeKind::Text => ListOf::Text,
            TypeKind::Int => ListOf::Int,
            TypeKind::Money => ListOf::Money,
            TypeKind::Number => ListOf::Number,
            TypeKind::Date => ListOf::Date,
            TypeKind::Month => ListOf::Month,
            TypeKind::Bool => ListOf::Bool,
            TypeKind::Code(c) => ListOf::Code(c),
            TypeKind::Null | TypeKind::List(_) => return None,
        })
    }

    pub fn kind(self) -> TypeKind {
        match self {
            ListOf::Text => TypeKind::Text,
            ListOf::Int => TypeKind::Int,
            ListOf::Money => TypeKind::Money,
            ListOf::Number => TypeKind::Number,
            ListOf::Date => TypeKind::Date,
            ListOf::Month => TypeKind::Month,
            ListOf::Bool => TypeKind::Bool,
            ListOf::Code(c) => TypeKind::Code(c),
        }
    }
}

impl Type {
    pub fn new(kind: TypeKind, nullable: bool) -> Type {
        Type { kind, nullable }
    }

    pub fn non_null(kind: TypeKind) -> Type {
        Type { kind, nullable: false }
    }

    pub fn nullable(kind: TypeKind) -> Type {
        Type { kind, nullable: true }
    }

    pub fn with_nullable(self, nullable: bool) -> Type {
        Type { kind: self.kind, nullable }
    }
}

impl fmt::Display for TypeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeKind::Text => f.write_str("text"),
            TypeKind::Int => f.write_str("int"),
            TypeKind::Money => f.write_str("money"),
            TypeKind::Number => f.write_str("number"),
            TypeKind::Date => f.write_str("date"),
            TypeKind::Month => f.write_str("month"),
            TypeKind::Bool => f.write_str("bool"),
            TypeKind::Code(idx) => write!(f, "code#{}", idx.raw()),
            TypeKind::Null => f.write_str("null"),
            TypeKind::List(of) => write!(f, "list of {}", of.kind()),
        }
    }
}

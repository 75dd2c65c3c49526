//! Rust enums for the integer enums a spec names with `x-enum-varnames`.
//!
//! typify turns an integer enum into a newtype that refuses any value it does not list, so a new
//! status code from the service would fail to decode. For a schema such as
//!
//! ```yaml
//! RunStatus:
//!   type: integer
//!   enum: [1, 2, 3]
//!   x-enum-varnames: [Ready, Running, Succeeded]
//!   x-enum-descriptions: [ready, running, succeeded]
//! ```
//!
//! xtask emits a real enum with one documented variant per value plus `Unknown(i64)`, serialised as
//! the bare integer, and tells progenitor to use it wherever the schema is referenced.

use anyhow::{Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// One integer enum to emit.
#[derive(Debug, Clone)]
pub struct IntEnum {
    /// Schema (and Rust type) name.
    pub name: String,
    /// The schema's description.
    pub description: String,
    /// (value, variant name, description) for each listed value.
    pub variants: Vec<(i64, String, String)>,
}

/// Finds every integer enum with `x-enum-varnames` in `components/schemas`.
pub fn find(doc: &Value) -> Result<Vec<IntEnum>> {
    let mut out = Vec::new();
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(out);
    };
    for (name, schema) in schemas {
        let Some(names) = schema.get("x-enum-varnames").and_then(Value::as_array) else {
            continue;
        };
        let values = schema
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if schema.get("type").and_then(Value::as_str) != Some("integer") {
            bail!("/components/schemas/{name}: x-enum-varnames is only supported on integer enums");
        }
        if names.len() != values.len() {
            bail!(
                "/components/schemas/{name}: x-enum-varnames has {} names for {} values",
                names.len(),
                values.len()
            );
        }
        let docs = schema.get("x-enum-descriptions").and_then(Value::as_array);
        let mut variants = Vec::new();
        for (i, (value, variant)) in values.iter().zip(names).enumerate() {
            let (Some(value), Some(variant)) = (value.as_i64(), variant.as_str()) else {
                bail!("/components/schemas/{name}/enum/{i}: expected an integer and a name");
            };
            let doc = docs
                .and_then(|d| d.get(i))
                .and_then(Value::as_str)
                .unwrap_or(variant)
                .to_string();
            variants.push((value, variant.to_string(), doc));
        }
        out.push(IntEnum {
            name: name.clone(),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            variants,
        });
    }
    Ok(out)
}

/// The `enums` module: every enum with its conversions and serde impls.
pub fn tokens(enums: &[IntEnum]) -> TokenStream {
    let items = enums.iter().map(|e| {
        let name = format_ident!("{}", e.name);
        let description = &e.description;
        let idents: Vec<_> = e.variants.iter().map(|(_, v, _)| format_ident!("{v}")).collect();
        let values: Vec<_> = e.variants.iter().map(|(n, _, _)| *n).collect();
        let texts: Vec<_> = e.variants.iter().map(|(_, _, d)| d.clone()).collect();
        let variant_docs: Vec<String> = e
            .variants
            .iter()
            .map(|(n, _, d)| format!("`{n}`: {d}"))
            .collect();
        quote! {
            #[doc = #description]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub enum #name {
                #( #[doc = #variant_docs] #idents, )*
                /// A value this version of the spec does not list, kept as it was received.
                Unknown(i64),
            }

            impl #name {
                /// Every value the spec lists.
                pub const ALL: &'static [#name] = &[ #( #name::#idents, )* ];

                /// The integer on the wire.
                pub fn code(self) -> i64 {
                    match self {
                        #( #name::#idents => #values, )*
                        #name::Unknown(value) => value,
                    }
                }

                /// What the value means, from the spec.
                pub fn description(self) -> &'static str {
                    match self {
                        #( #name::#idents => #texts, )*
                        #name::Unknown(_) => "not listed in the spec",
                    }
                }
            }

            impl ::std::convert::From<i64> for #name {
                fn from(value: i64) -> Self {
                    match value {
                        #( #values => #name::#idents, )*
                        other => #name::Unknown(other),
                    }
                }
            }

            impl ::std::convert::From<#name> for i64 {
                fn from(value: #name) -> Self {
                    value.code()
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    write!(f, "{} ({})", self.code(), self.description())
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_i64(self.code())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    <i64 as ::serde::Deserialize>::deserialize(deserializer).map(#name::from)
                }
            }
        }
    });
    quote! { #( #items )* }
}

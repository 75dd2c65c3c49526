//! Cutting a list into the page a request asks for: by page number ([`numbered`]), by offset
//! ([`from_offset`], or [`span`] for a list made on demand) or after an opaque cursor
//! ([`Cursor`], [`after_cursor`]). The vendor wraps the cut in its own page body.

use serde_json::{Value, json};

/// One page of a list cut by page number.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbered<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: u64,
    /// Pages in the whole list.
    pub pages: u64,
}

/// Page `page` (from 1) of `size` (at least 1) items of `items`.
pub fn numbered<T>(items: Vec<T>, page: u64, size: u64) -> Numbered<T> {
    let size = size.max(1);
    let total = items.len() as u64;
    let skip = page.max(1).saturating_sub(1).saturating_mul(size);
    Numbered {
        items: from_offset(items, skip, size),
        total,
        pages: total.div_ceil(size),
    }
}

/// At most `size` items of `items` from index `offset`.
pub fn from_offset<T>(items: Vec<T>, offset: u64, size: u64) -> Vec<T> {
    items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .collect()
}

/// The indices of at most `size` items from index `offset` of a list of `total` items, for a list
/// whose items are made on demand (empty, at `total`, when `offset` is past the end).
pub fn span(total: u64, offset: u64, size: u64) -> std::ops::Range<u64> {
    let start = offset.min(total);
    start..start.saturating_add(size).min(total)
}

/// A position in a list ordered by a time, then a unique key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// The time, Unix ms.
    pub at: i64,
    /// The row's unique key.
    pub key: String,
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Cursor {
    /// The opaque text: base64url (no padding) of `{"u": ms, "k": key}`.
    pub fn encode(&self) -> String {
        let bytes = json!({"u": self.at, "k": self.key})
            .to_string()
            .into_bytes();
        let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(BASE64URL[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// The JSON object `text` encodes, if it is base64url of one.
    pub fn decode_json(text: &str) -> Option<Value> {
        let mut bits = 0u32;
        let mut held = 0;
        let mut bytes = Vec::with_capacity(text.len());
        for c in text.bytes() {
            let v = BASE64URL.iter().position(|b| *b == c)? as u32;
            bits = bits << 6 | v;
            held += 6;
            if held >= 8 {
                held -= 8;
                bytes.push((bits >> held & 0xff) as u8);
            }
        }
        serde_json::from_slice(&bytes).ok()
    }

    /// The cursor `text` encodes, if it is one of [`Cursor::encode`]'s.
    pub fn decode(text: &str) -> Option<Cursor> {
        let value = Self::decode_json(text)?;
        Some(Cursor {
            at: value.get("u")?.as_i64()?,
            key: value.get("k")?.as_str()?.to_string(),
        })
    }
}

/// One page after a cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterCursor<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// `rows` (in any order) sorted by their cursor, those after `after`, at most `limit` (at least
/// 1).
pub fn after_cursor<T>(
    mut rows: Vec<(Cursor, T)>,
    after: Option<&Cursor>,
    limit: usize,
) -> AfterCursor<T> {
    let limit = limit.max(1);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = rows
        .into_iter()
        .filter(|(at, _)| after.is_none_or(|a| at > a))
        .peekable();
    let mut items = Vec::with_capacity(limit);
    let mut last = None;
    while items.len() < limit {
        let Some((at, row)) = rest.next() else { break };
        items.push(row);
        last = Some(at);
    }
    let next = if rest.peek().is_some() { last } else { None };
    AfterCursor { items, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_number_and_offset() {
        let page = numbered((1..=45).collect(), 3, 20);
        assert_eq!(page.items, (41..=45).collect::<Vec<_>>());
        assert_eq!((page.total, page.pages), (45, 3));
        assert!(
            numbered((1..=5).collect::<Vec<_>>(), u64::MAX, 100)
                .items
                .is_empty()
        );
        assert_eq!(numbered(Vec::<u8>::new(), 1, 10).pages, 0);
        assert_eq!(from_offset(vec![1, 2, 3], 1, 1), [2]);
        assert_eq!(span(45, 40, 20), 40..45);
        assert_eq!(span(45, 0, 20), 0..20);
        assert_eq!(span(45, 99, 20), 45..45);
        assert_eq!(
            span(u64::MAX, u64::MAX - 1, u64::MAX),
            u64::MAX - 1..u64::MAX
        );
        assert!(from_offset(vec![1], u64::MAX, 5).is_empty());
    }

    #[test]
    fn cursors_round_trip_and_cut_after_themselves() {
        let c = Cursor {
            at: 1_718_411_400_000,
            key: "#1001&A".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert_eq!(Cursor::decode("not*base64"), None);
        let rows: Vec<(Cursor, u32)> = (0..5)
            .map(|i| {
                (
                    Cursor {
                        at: 10 - i64::from(i),
                        key: format!("k{i}"),
                    },
                    i,
                )
            })
            .collect();
        let first = after_cursor(rows.clone(), None, 2);
        assert_eq!(first.items, [4, 3]);
        let second = after_cursor(rows.clone(), first.next.as_ref(), 2);
        assert_eq!(second.items, [2, 1]);
        let last = after_cursor(rows, second.next.as_ref(), 2);
        assert_eq!((last.items, last.next), (vec![0], None));
    }
}

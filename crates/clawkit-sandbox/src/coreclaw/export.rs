//! Export files: made on the fly, chunk by chunk, so a run of millions of items is exported in flat
//! memory.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::worker::Worker;

/// Items per chunk of the streamed file.
pub const CHUNK_ITEMS: u64 = 1_000;

/// Export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of items.
    Json,
    /// JSON Lines: one item per line (v2).
    Jsonl,
    /// `<items><item><KEY>value</KEY>...</item></items>` (v2).
    Xml,
    /// An HTML table (v2).
    Html,
    /// An RSS 2.0 channel, one `<item>` per result, its fields as elements (v2).
    Rss,
    /// Excel's XML Spreadsheet 2003 (v2's `xls`; Excel opens it).
    Xls,
}

impl Format {
    /// Every format the sandbox writes.
    pub const ALL: [Format; 7] = [
        Format::Csv,
        Format::Json,
        Format::Jsonl,
        Format::Xml,
        Format::Html,
        Format::Rss,
        Format::Xls,
    ];

    /// File extension and format name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Xml => "xml",
            Format::Html => "html",
            Format::Rss => "rss",
            Format::Xls => "xls",
        }
    }

    /// The format of a name, case-insensitively.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Content type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Jsonl => "application/x-ndjson",
            Format::Xml => "application/xml",
            Format::Html => "text/html; charset=utf-8",
            Format::Rss => "application/rss+xml",
            Format::Xls => "application/vnd.ms-excel",
        }
    }

    /// What opens and closes a markup file (empty for the others).
    fn frame(self) -> (&'static str, &'static str) {
        match self {
            Format::Xml => (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<items>\n",
                "</items>\n",
            ),
            Format::Html => (
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>results</title></head><body><table>\n",
                "</table></body></html>\n",
            ),
            Format::Rss => (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>results</title><link>https://openapi.coreclaw.com</link><description>CoreClaw run results</description>\n",
                "</channel></rss>\n",
            ),
            Format::Xls => (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\"><Worksheet ss:Name=\"results\"><Table>\n",
                "</Table></Worksheet></Workbook>\n",
            ),
            Format::Csv | Format::Json | Format::Jsonl => ("", ""),
        }
    }
}

/// Escapes text for XML and HTML.
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An element name for a key (XML names cannot start with a digit or hold spaces).
fn element(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// One export file: what to write, fixed when the export was requested.
#[derive(Debug, Clone)]
pub struct Export {
    /// The run.
    pub run_slug: String,
    /// The run's item seed.
    pub run_hash: u64,
    /// The Worker (its item maker).
    pub worker: Worker,
    /// The run's custom input.
    pub custom: Map<String, Value>,
    /// Items in the file.
    pub count: u64,
    /// Columns (CSV) or kept keys (JSON), in order.
    pub keys: Vec<String>,
    /// Format.
    pub format: Format,
    /// The byte length of each chunk, measured once (for `Range` requests).
    pub lengths: Arc<OnceLock<Vec<u64>>>,
}

fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Export {
    /// Bytes of chunk `n` (items `n*CHUNK_ITEMS ..`), with the CSV header or JSON bracket as needed.
    pub fn chunk(&self, n: u64) -> Bytes {
        let start = n * CHUNK_ITEMS;
        let end = (start + CHUNK_ITEMS).min(self.count);
        match self.format {
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
                if n == 0 {
                    let _ = writer.write_record(&self.keys);
                }
                for i in start..end {
                    let item = self.worker.item(self.run_hash, i, &self.custom);
                    let _ = writer.write_record(self.keys.iter().map(|k| csv_cell(item.get(k))));
                }
                Bytes::from(writer.into_inner().unwrap_or_default())
            }
            Format::Json => {
                let mut out = Vec::with_capacity(64 * 1024);
                if n == 0 {
                    out.push(b'[');
                }
                for i in start..end {
                    if i > 0 {
                        out.push(b',');
                    }
                    let item = self.worker.item(self.run_hash, i, &self.custom);
                    let _ = serde_json::to_writer(&mut out, &self.kept(&item));
                }
                if end == self.count {
                    out.push(b']');
                }
                Bytes::from(out)
            }
            Format::Jsonl => {
                let mut out = Vec::with_capacity(64 * 1024);
                for i in start..end {
                    let item = self.worker.item(self.run_hash, i, &self.custom);
                    let _ = serde_json::to_writer(&mut out, &self.kept(&item));
                    out.push(b'\n');
                }
                Bytes::from(out)
            }
            markup => {
                let (open, close) = markup.frame();
                let mut out = String::with_capacity(64 * 1024);
                if n == 0 {
                    out.push_str(open);
                    if matches!(markup, Format::Html | Format::Xls) {
                        out.push_str(&self.row(markup, |k| k.to_string()));
                    }
                }
                for i in start..end {
                    let item = self.worker.item(self.run_hash, i, &self.custom);
                    out.push_str(&self.row(markup, |k| csv_cell(item.get(k))));
                }
                if end == self.count {
                    out.push_str(close);
                }
                Bytes::from(out)
            }
        }
    }

    /// The item with only the kept keys.
    fn kept(&self, item: &Map<String, Value>) -> Map<String, Value> {
        self.keys
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }

    /// One markup row: the cell of each key.
    fn row(&self, format: Format, cell: impl Fn(&str) -> String) -> String {
        let cells = self.keys.iter().map(|k| (k, escape_markup(&cell(k))));
        match format {
            Format::Html => {
                let tds: String = cells.map(|(_, v)| format!("<td>{v}</td>")).collect();
                format!("<tr>{tds}</tr>\n")
            }
            Format::Xls => {
                let tds: String = cells
                    .map(|(_, v)| format!("<Cell><Data ss:Type=\"String\">{v}</Data></Cell>"))
                    .collect();
                format!("<Row>{tds}</Row>\n")
            }
            _ => {
                let fields: String = cells
                    .map(|(k, v)| {
                        let e = element(k);
                        format!("<{e}>{v}</{e}>")
                    })
                    .collect();
                format!("<item>{fields}</item>\n")
            }
        }
    }

    /// Number of chunks (at least one, so an empty export still has its header or `[]`).
    pub fn chunks(&self) -> u64 {
        self.count.div_ceil(CHUNK_ITEMS).max(1)
    }

    /// The byte length of each chunk (made once, then kept: the file never changes).
    pub fn chunk_lengths(&self) -> &[u64] {
        self.lengths.get_or_init(|| {
            (0..self.chunks())
                .map(|n| self.chunk(n).len() as u64)
                .collect()
        })
    }

    /// The file's length in bytes.
    pub fn byte_len(&self) -> u64 {
        self.chunk_lengths().iter().sum()
    }

    /// The file as a streamed body.
    pub fn body(self) -> Body {
        self.body_from(0)
    }

    /// The file from byte `offset` on, as a streamed body (for `Range: bytes=offset-`).
    pub fn body_from(self, offset: u64) -> Body {
        let chunks = self.chunks();
        // The chunk holding `offset`, and how much of it to drop.
        let (first, mut skip) = if offset == 0 {
            (0, 0)
        } else {
            let mut at = 0u64;
            let mut found = (chunks, 0);
            for (n, len) in self.chunk_lengths().iter().enumerate() {
                if offset < at + len {
                    found = (n as u64, offset - at);
                    break;
                }
                at += len;
            }
            found
        };
        let stream = futures::stream::unfold(first, move |n| {
            let export = self.clone();
            let drop = std::mem::take(&mut skip);
            async move {
                if n >= chunks {
                    return None;
                }
                // Made off the async threads: a chunk is a thousand items.
                let bytes =
                    tokio::task::spawn_blocking(move || export.chunk(n).slice(drop as usize..))
                        .await
                        .map_err(std::io::Error::other);
                Some((bytes, n + 1))
            }
        });
        Body::from_stream(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::{LOAD_WORKER, workers};
    use super::*;
    use serde_json::json;

    fn export(count: u64, format: Format) -> Export {
        Export {
            run_slug: "r".into(),
            run_hash: 9,
            worker: workers()
                .into_iter()
                .find(|w| w.slug == LOAD_WORKER)
                .unwrap(),
            custom: json!({"count": count}).as_object().unwrap().clone(),
            count,
            keys: vec!["index".into(), "name".into()],
            format,
            lengths: Default::default(),
        }
    }

    fn whole(e: &Export) -> String {
        (0..e.chunks())
            .map(|n| String::from_utf8(e.chunk(n).to_vec()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn any_suffix_of_the_file_is_the_same_bytes() {
        let e = export(2_500, Format::Csv);
        let text = whole(&e);
        assert_eq!(e.byte_len(), text.len() as u64);
        for offset in [0, 1, 9, 20_000, text.len() as u64 - 1] {
            let body = e.clone().body_from(offset);
            let got = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            assert_eq!(&got[..], &text.as_bytes()[offset as usize..], "{offset}");
        }
    }

    #[test]
    fn csv_has_a_header_and_every_row_once() {
        let text = whole(&export(2_500, Format::Csv));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2_501);
        assert_eq!(lines[0], "index,name");
        assert_eq!(lines[2_500], "2499,item-2499");
    }

    #[test]
    fn json_is_one_valid_array_of_the_kept_keys() {
        for count in [0, 1, 1_000, 2_001] {
            let text = whole(&export(count, Format::Json));
            let items: Vec<Value> = serde_json::from_str(&text).unwrap();
            assert_eq!(items.len() as u64, count);
            if let Some(last) = items.last() {
                assert_eq!(
                    last,
                    &json!({"index": count - 1, "name": format!("item-{}", count - 1)})
                );
            }
        }
    }

    #[test]
    fn every_format_has_one_record_per_item_across_chunks() {
        for format in Format::ALL {
            let e = export(2_500, format);
            let text = whole(&e);
            let records = match format {
                Format::Csv | Format::Jsonl => text.lines().count(),
                Format::Json => serde_json::from_str::<Vec<Value>>(&text).unwrap().len(),
                Format::Xml | Format::Rss => text.matches("<item>").count(),
                Format::Html => text.matches("<tr>").count(),
                Format::Xls => text.matches("<Row>").count(),
            };
            let header = usize::from(matches!(format, Format::Csv | Format::Html | Format::Xls));
            assert_eq!(records, 2_500 + header, "{format:?}");
            assert_eq!(Format::parse(&format.name().to_uppercase()), Some(format));
            let empty = whole(&export(0, format));
            assert_eq!(
                empty.is_empty(),
                format == Format::Jsonl,
                "{format:?}: {empty}"
            );
        }
        assert_eq!(element("1 a"), "_1_a");
        assert_eq!(escape_markup("<a&'b\">"), "&lt;a&amp;&#39;b&quot;&gt;");
    }
}

//! Export files: made on the fly, chunk by chunk, so a run of millions of items is exported in flat
//! memory.

use axum::body::Body;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::catalog::Worker;

/// Items per chunk of the streamed file.
pub const CHUNK_ITEMS: u64 = 1_000;

/// Export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of items.
    Json,
}

impl Format {
    /// File extension and format name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// Content type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
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
                    let kept: Map<String, Value> = self
                        .keys
                        .iter()
                        .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                        .collect();
                    let _ = serde_json::to_writer(&mut out, &kept);
                }
                if end == self.count {
                    out.push(b']');
                }
                Bytes::from(out)
            }
        }
    }

    /// Number of chunks (at least one, so an empty export still has its header or `[]`).
    pub fn chunks(&self) -> u64 {
        self.count.div_ceil(CHUNK_ITEMS).max(1)
    }

    /// The file as a streamed body.
    pub fn body(self) -> Body {
        let chunks = self.chunks();
        let stream = futures::stream::unfold(0u64, move |n| {
            let export = self.clone();
            async move {
                if n >= chunks {
                    return None;
                }
                // Made off the async threads: a chunk is a thousand items.
                let bytes = tokio::task::spawn_blocking(move || export.chunk(n))
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
        }
    }

    fn whole(e: &Export) -> String {
        (0..e.chunks())
            .map(|n| String::from_utf8(e.chunk(n).to_vec()).unwrap())
            .collect()
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
}

//! What `claw` prints: tables, JSON, files of rows (CSV, JSON, JSON Lines), and progress on
//! stderr. The same writers serve every vendor's commands, each under one name: [`json`] (a JSON
//! value), [`one`] (one resource, as JSON), [`rows`] (a table, or JSON with `--json`), [`done`]
//! (a line saying what was done, or JSON), [`table`], [`RowWriter`] (rows to a file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use crate::failure::Failure;

/// A file format, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv`: a header row from the first row's fields, in the vendor's order.
    Csv,
    /// `.json`: one JSON array.
    Json,
    /// `.jsonl` or `.ndjson`: one JSON object per line.
    Jsonl,
}

impl Format {
    /// The format of `path`, if it is one of `allowed` (a usage error naming them otherwise).
    pub fn of(path: &Path, allowed: &[Format]) -> Result<Format, Failure> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let format = match ext.as_deref() {
            Some("csv") => Some(Format::Csv),
            Some("json") => Some(Format::Json),
            Some("jsonl") | Some("ndjson") => Some(Format::Jsonl),
            _ => None,
        };
        match format {
            Some(f) if allowed.contains(&f) => Ok(f),
            _ => Err(Failure::Usage(format!(
                "--out {}: the file must end in {}",
                path.display(),
                allowed
                    .iter()
                    .map(|f| match f {
                        Format::Csv => ".csv",
                        Format::Json => ".json",
                        Format::Jsonl => ".jsonl",
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Where `--out` writes: a local file, or an object (`s3://`, `gs://`, `az://`, `file://`) streamed
/// as a multipart upload that becomes visible, whole, when [`finish`] shuts it down.
pub type Out = BufWriter<Box<dyn AsyncWrite + Unpin + Send>>;

/// Whether `--out` names object storage rather than a local path.
pub fn is_object(out: &Path) -> bool {
    out.to_str().is_some_and(clawkit::objects::is_object_url)
}

/// Checks an object-storage `--out` before any vendor request: its form (a usage error naming
/// what is expected), then, with one list request, that the bucket exists and the credentials
/// reach it (so a paid run is not started with nowhere to put its results). `prefix`: a folder of
/// objects rather than one object.
pub async fn check_destination(out: &Path, prefix: bool) -> Result<(), Failure> {
    let Some(url) = out.to_str().filter(|_| is_object(out)) else {
        return Ok(());
    };
    let usage = |e: clawkit::objects::ObjectError| Failure::Usage(format!("--out {e}"));
    let unreachable = |e: clawkit::objects::ObjectError| {
        Failure::Other(
            format!("--out {e}"),
            Some("check the bucket name and the AWS_* / GOOGLE_* / AZURE_* credentials".into()),
        )
    };
    if prefix {
        let objects = clawkit::objects::Objects::open(url).map_err(usage)?;
        objects.check().await.map_err(unreachable)
    } else {
        let writer = clawkit::objects::ObjectWriter::create(url).map_err(usage)?;
        writer.check().await.map_err(unreachable)
    }
}

/// Creates (or truncates) `out`: a local file, or an object upload (configured from the
/// `AWS_*` / `GOOGLE_*` / `AZURE_*` environment).
pub async fn create(out: &Path) -> Result<Out, Failure> {
    let cannot =
        |e: &dyn std::fmt::Display| Failure::io(format!("cannot create {}", out.display()), e);
    let inner: Box<dyn AsyncWrite + Unpin + Send> = match out.to_str() {
        Some(url) if is_object(out) => {
            Box::new(clawkit::objects::ObjectWriter::create(url).map_err(|e| cannot(&e))?)
        }
        _ => Box::new(tokio::fs::File::create(out).await.map_err(|e| cannot(&e))?),
    };
    Ok(BufWriter::with_capacity(256 * 1024, inner))
}

/// Flushes `out` and closes it (for an object, completes the upload: only then it exists).
pub async fn finish(out: &mut Out, path: &Path) -> Result<(), Failure> {
    out.shutdown()
        .await
        .map_err(|e| Failure::io(format!("writing {}", path.display()), e))
}

/// Writes JSON objects (result items, data rows) to a file as CSV, a JSON array or JSON Lines,
/// keeping the vendor's field order. Rows are encoded a batch at a time.
pub struct RowWriter {
    path: PathBuf,
    format: Format,
    file: Out,
    columns: Option<Vec<String>>,
    rows: u64,
}

impl RowWriter {
    /// Creates (or truncates) `path`, a local file or an object URL.
    pub async fn create(path: &Path, format: Format) -> Result<Self, Failure> {
        Ok(Self {
            path: path.to_path_buf(),
            format,
            file: create(path).await?,
            columns: None,
            rows: 0,
        })
    }

    fn fail(path: &Path) -> impl Fn(String) -> Failure + '_ {
        move |e| Failure::io(format!("writing {}", path.display()), e)
    }

    /// Appends `rows`.
    pub async fn write(&mut self, rows: &[Map<String, Value>]) -> Result<(), Failure> {
        let fail = Self::fail(&self.path);
        let mut bytes = Vec::new();
        match self.format {
            Format::Csv => {
                let mut encoder = csv::Writer::from_writer(Vec::new());
                for row in rows {
                    if self.columns.is_none() {
                        let c: Vec<String> = row.keys().cloned().collect();
                        encoder.write_record(&c).map_err(|e| fail(e.to_string()))?;
                        self.columns = Some(c);
                    }
                    let columns = self.columns.as_deref().unwrap_or_default();
                    let cells = columns.iter().map(|c| match row.get(c) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    });
                    encoder
                        .write_record(cells)
                        .map_err(|e| fail(e.to_string()))?;
                }
                bytes = encoder.into_inner().map_err(|e| fail(e.to_string()))?;
            }
            Format::Json | Format::Jsonl => {
                for (i, row) in rows.iter().enumerate() {
                    if self.format == Format::Json {
                        let first = self.rows + i as u64 == 0;
                        bytes.extend_from_slice(if first { b"[\n" } else { b",\n" });
                    }
                    serde_json::to_writer(&mut bytes, row).map_err(|e| fail(e.to_string()))?;
                    if self.format == Format::Jsonl {
                        bytes.push(b'\n');
                    }
                }
            }
        }
        self.file
            .write_all(&bytes)
            .await
            .map_err(|e| fail(e.to_string()))?;
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// Ends the file (closes a JSON array) and flushes it; returns the rows written.
    pub async fn finish(mut self) -> Result<u64, Failure> {
        let fail = Self::fail(&self.path);
        if self.format == Format::Json {
            let end: &[u8] = if self.rows == 0 { b"[]\n" } else { b"\n]\n" };
            self.file
                .write_all(end)
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
        finish(&mut self.file, &self.path).await?;
        Ok(self.rows)
    }
}

/// Prints rows as aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
                .min(60)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c: String = if c.chars().count() > *w {
                    c.chars().take(w.saturating_sub(1)).collect::<String>() + "…"
                } else {
                    c.clone()
                };
                format!("{c:<w$}")
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Prints JSON on stdout.
pub fn json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Prints one resource as pretty JSON, either way (it is nested).
pub fn one<T: Serialize>(value: &T) {
    json(&serde_json::to_value(value).unwrap_or(Value::Null));
}

/// Prints a list: `value` as JSON with `--json` (`as_json`), else `rows` as a table.
pub fn rows<T: Serialize>(as_json: bool, value: &T, headers: &[&str], rows: Vec<Vec<String>>) {
    if as_json {
        one(value);
    } else {
        table(headers, &rows);
    }
}

/// Says what was done: `value` as JSON with `--json` (`as_json`), else the line `text` makes.
pub fn done(as_json: bool, value: Value, text: impl FnOnce() -> String) {
    if as_json {
        json(&value);
    } else {
        println!("{}", text());
    }
}

/// A spinner on stderr; hidden when stderr is not a terminal or output is JSON.
pub fn spinner(hidden: bool) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A progress bar over `total` items (or bytes when `total` is `None`), on stderr.
pub fn bar(total: Option<u64>, hidden: bool, what: &str) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(total, target);
    let template = match total {
        Some(_) => format!("{what} {{bar:30}} {{pos}}/{{len}} items [{{elapsed}}]"),
        None => format!("{what} {{spinner}} {{bytes}} [{{elapsed}}]"),
    };
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Gives a bar started without a total its total (once, from the first page or batch).
pub fn set_total(bar: &ProgressBar, total: Option<u64>, what: &str, unit: &str) {
    if let Some(total) = total
        && bar.length().is_none()
    {
        bar.set_length(total);
        let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {unit} [{{elapsed}}]");
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn formats_by_extension() {
        let all = [Format::Csv, Format::Json, Format::Jsonl];
        assert_eq!(Format::of(Path::new("r.CSV"), &all).ok(), Some(Format::Csv));
        assert_eq!(
            Format::of(Path::new("r.ndjson"), &all).ok(),
            Some(Format::Jsonl)
        );
        assert!(matches!(
            Format::of(Path::new("r.xlsx"), &all),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            Format::of(Path::new("r.csv"), &[Format::Jsonl]),
            Err(Failure::Usage(_))
        ));
    }

    #[tokio::test]
    async fn rows_keep_the_vendor_field_order_in_every_format() {
        let dir = std::env::temp_dir().join(format!("claw-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rows = [
            row(json!({"词条": "深圳视界", "简介": "a, \"b\"", "序号": "0"})),
            row(json!({"词条": "八爪鱼", "简介": null, "序号": "1"})),
        ];
        for (name, format) in [
            ("r.csv", Format::Csv),
            ("r.json", Format::Json),
            ("r.jsonl", Format::Jsonl),
        ] {
            let path = dir.join(name);
            let mut w = RowWriter::create(&path, format).await.unwrap();
            w.write(&rows[..1]).await.unwrap();
            w.write(&rows[1..]).await.unwrap();
            assert_eq!(w.finish().await.unwrap(), 2);
            let text = std::fs::read_to_string(&path).unwrap();
            match format {
                Format::Csv => assert_eq!(
                    text,
                    "词条,简介,序号\n深圳视界,\"a, \"\"b\"\"\",0\n八爪鱼,,1\n"
                ),
                Format::Json => {
                    let v: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
                    assert_eq!(v[1].keys().collect::<Vec<_>>(), ["词条", "简介", "序号"]);
                }
                Format::Jsonl => {
                    assert_eq!(text.lines().count(), 2);
                    assert!(text.starts_with(r#"{"词条":"深圳视界","简介""#), "{text}");
                }
            }
        }
        let empty = dir.join("e.json");
        RowWriter::create(&empty, Format::Json)
            .await
            .unwrap()
            .finish()
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&empty).unwrap(), "[]\n");
        std::fs::remove_dir_all(&dir).ok();
    }
}

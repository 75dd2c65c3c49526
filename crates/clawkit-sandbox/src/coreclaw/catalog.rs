//! Seed data: the Workers of the catalog, the saved tasks and the runs that CoreClaw's own guide
//! and spec examples name.
//!
//! Six Workers cover every input property type (string, integer, number, boolean, array, object),
//! required and optional fields, defaults, descriptions and editors.

use std::time::Duration;

use serde_json::{Value, json};

use super::worker::{MAX_LOAD_ITEMS, Output, PropType, Property, Worker};

/// A saved task template for `/api/v1/task/run`.
#[derive(Debug, Clone)]
pub struct TaskTemplate {
    /// `task_slug`.
    pub slug: &'static str,
    /// The Worker it runs.
    pub worker: &'static str,
    /// Its saved custom input.
    pub custom: Value,
}

/// The Worker of the guide's walkthrough.
pub const AMAZON_WORKER: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
/// The load-test Worker: `count` items, made lazily.
pub const LOAD_WORKER: &str = "01KSBXLOADGEN0000000000001";
/// The News Scraper Worker of the spec's examples.
const NEWS_WORKER: &str = "01KJXYJ7KCHXM0PDZHQD5293XE";

/// The seeded Workers.
pub fn workers() -> Vec<Worker> {
    use PropType::*;
    vec![
        Worker {
            slug: AMAZON_WORKER,
            title: "Amazon Global Product By URL",
            description: "Extract product data from Amazon URLs",
            version: "v1.0.1",
            readme: "# Amazon Global Product By URL\n\nGive one or more Amazon product URLs in `urls` \
                     (each `{\"url\": ...}`); one result item per URL: title, price, rating, reviews.",
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 1800,
            properties: vec![Property::new("urls", Array, "URLs")
                .required()
                .describe("Amazon product page URLs, each as {\"url\": \"https://www.amazon.com/dp/...\"}.")
                .editor("requestListSources")
                .items_with("url")],
            headers: vec![
                ("url", "URL", "text"),
                ("asin", "ASIN", "text"),
                ("title", "Title", "text"),
                ("price", "Price", "number"),
                ("currency", "Currency", "text"),
                ("rating", "Rating", "number"),
                ("reviews", "Reviews", "number"),
                ("in_stock", "In stock", "boolean"),
            ],
            price_micros: 3_000,
            bytes_per_item: 250_000,
            output: Output::Amazon,
        },
        Worker {
            slug: "01KBHMS6A8H6A3K5FJY11MQ99Z",
            title: "Google Maps Places By Keyword",
            description: "Search Google Maps for places by keyword and location",
            version: "v2.3.0",
            readme: "# Google Maps Places By Keyword\n\nOne result item per place.",
            cpus: 0.25,
            memory: 1024,
            execute_limit_time_seconds: 3600,
            properties: vec![
                Property::new("keyword", String, "Keyword").required().describe("What to search for, e.g. `coffee`."),
                Property::new("location", String, "Location").default(json!("New York")).describe("City or area."),
                Property::new("max_results", Integer, "Max results")
                    .default(json!(20))
                    .describe("How many places to return (1 to 500).")
                    .extra("minimum", json!(1))
                    .extra("maximum", json!(500)),
                Property::new("language", String, "Language")
                    .default(json!("en"))
                    .editor("select")
                    .extra("enum", json!(["en", "zh", "ja", "de", "fr"])),
                Property::new("include_reviews", Boolean, "Include reviews").default(json!(false)),
            ],
            headers: vec![
                ("name", "Name", "text"),
                ("address", "Address", "text"),
                ("rating", "Rating", "number"),
                ("reviews_count", "Reviews", "number"),
                ("phone", "Phone", "text"),
                ("latitude", "Latitude", "number"),
                ("longitude", "Longitude", "number"),
            ],
            price_micros: 2_000,
            bytes_per_item: 120_000,
            output: Output::Places,
        },
        Worker {
            slug: NEWS_WORKER,
            title: "News Scraper",
            description: "Collect news articles from start URLs",
            version: "v1.0.2",
            readme: "# News Scraper\n\nProvide one or more start URLs and how many articles to keep.",
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 1800,
            properties: vec![
                Property::new("startURLs", Array, "Start URLs")
                    .required()
                    .default(json!([{"url": "https://example.com"}]))
                    .describe("Seed URLs consumed by the scraper.")
                    .editor("requestListSources")
                    .items_with("url"),
                Property::new("max_articles", Integer, "Max articles per URL").default(json!(10)),
                Property::new("since", String, "Published since").editor("datepicker").describe("ISO 8601 date, e.g. 2026-11-01."),
                Property::new("score_threshold", Number, "Minimum score").default(json!(0.0)).describe("0 to 1."),
            ],
            headers: vec![
                ("title", "Title", "text"),
                ("url", "URL", "text"),
                ("author", "Author", "text"),
                ("score", "Score", "number"),
                ("published_at", "Published", "date"),
            ],
            price_micros: 1_000,
            bytes_per_item: 60_000,
            output: Output::News,
        },
        Worker {
            slug: "01KBHT00QRRZYZJQJ8P1R682VC",
            title: "Social Profile Posts",
            description: "Read the latest posts of a social media profile",
            version: "v1.1.0",
            readme: "# Social Profile Posts\n\n`profile` is an object: `{\"platform\": \"x\", \"handle\": \"...\"}`.",
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 900,
            properties: vec![
                Property::new("profile", Object, "Profile")
                    .required()
                    .default(json!({"platform": "x", "handle": "coreclaw"}))
                    .editor("json")
                    .describe("Which profile: {\"platform\": ..., \"handle\": ...}."),
                Property::new("include_posts", Boolean, "Include posts").default(json!(true)),
                Property::new("max_posts", Integer, "Max posts").default(json!(5)),
            ],
            headers: vec![
                ("handle", "Handle", "text"),
                ("post_id", "Post", "text"),
                ("text", "Text", "text"),
                ("likes", "Likes", "number"),
            ],
            price_micros: 1_500,
            bytes_per_item: 40_000,
            output: Output::Profile,
        },
        Worker {
            slug: LOAD_WORKER,
            title: "Sandbox Load Generator",
            description: "Produces any number of synthetic items, for paging and export load tests",
            version: "v1.0.0",
            readme: "# Sandbox Load Generator\n\n`count` items (up to 10,000,000), made on demand from the run slug.",
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 3600,
            properties: vec![
                Property::new("count", Integer, "Item count")
                    .required()
                    .describe("How many result items to produce (1 to 10,000,000).")
                    .extra("minimum", json!(1))
                    .extra("maximum", json!(MAX_LOAD_ITEMS)),
                Property::new("payload_bytes", Integer, "Payload bytes")
                    .default(json!(16))
                    .describe("Size of each item's `payload` string (0 to 1024)."),
            ],
            headers: vec![
                ("index", "Index", "number"),
                ("name", "Name", "text"),
                ("value", "Value", "number"),
                ("payload", "Payload", "text"),
            ],
            price_micros: 1,
            bytes_per_item: 100,
            output: Output::Load,
        },
        Worker {
            slug: "01KGYERXPXTABWXMGQKFCE43M2",
            title: "Website Content Crawler",
            description: "Crawl websites from start URLs and extract page content",
            version: "v1.0.1",
            readme: "# Website Content Crawler\n\nStarts at `startURLs` and returns up to `max_pages` pages per start URL.",
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 1800,
            properties: vec![
                Property::new("startURLs", Array, "Start URLs")
                    .required()
                    .default(json!([{"url": "https://example.com"}]))
                    .describe("Seed URLs consumed by the scraper.")
                    .editor("requestListSources")
                    .items_with("url"),
                Property::new("max_pages", Integer, "Max pages per start URL")
                    .default(json!(5))
                    .extra("minimum", json!(1))
                    .extra("maximum", json!(1000)),
                Property::new("same_domain", Boolean, "Stay on the start domain").default(json!(true)),
            ],
            headers: vec![
                ("url", "URL", "text"),
                ("depth", "Depth", "number"),
                ("title", "Title", "text"),
                ("text_length", "Text length", "number"),
            ],
            price_micros: 2_000,
            bytes_per_item: 300_000,
            output: Output::Crawl,
        },
        Worker {
            slug: "01KSBXPAGETEXT000000000001",
            title: "Web Page To Text",
            description: "Render one web page and return its text",
            version: "v1.0.1",
            readme: "# Web Page To Text\n\nOne result item: the page's title and text.",
            cpus: 0.25,
            memory: 1024,
            execute_limit_time_seconds: 600,
            properties: vec![
                Property::new("url", String, "URL").required().describe("The page to render."),
                Property::new("render_js", Boolean, "Render JavaScript").default(json!(true)),
                Property::new("wait_seconds", Number, "Wait seconds").default(json!(0.5)).describe("Extra wait after load."),
            ],
            headers: vec![
                ("url", "URL", "text"),
                ("title", "Title", "text"),
                ("length", "Length", "number"),
                ("text", "Text", "text"),
            ],
            price_micros: 5_000,
            bytes_per_item: 500_000,
            output: Output::PageText,
        },
    ]
}

/// The saved task templates.
pub fn tasks() -> Vec<TaskTemplate> {
    vec![
        TaskTemplate {
            slug: "01KK0G4W9W4JYTWEA55KMG5QKP",
            worker: AMAZON_WORKER,
            custom: json!({"urls": [
                {"url": "https://www.amazon.com/dp/B0CHHSFMRL"},
                {"url": "https://www.amazon.com/dp/B09G9FPHY6"}
            ]}),
        },
        TaskTemplate {
            slug: "01KK0G4W9W4JYTWEA55KMG5LOD",
            worker: LOAD_WORKER,
            custom: json!({"count": 1000}),
        },
    ]
}

/// A run that CoreClaw's guide or spec examples name, seeded so that their examples work.
#[derive(Debug, Clone)]
pub struct RunTemplate {
    /// `run_slug`.
    pub slug: &'static str,
    /// The Worker it runs.
    pub worker: &'static str,
    /// Its custom input.
    pub custom: Value,
    /// Its run time.
    pub duration: Duration,
    /// Whether it had ended when the sandbox started (otherwise it is still running, to abort).
    pub finished: bool,
}

/// The seeded runs: the guide's finished Amazon run (20 results, usage 0.06), the spec's finished
/// and failed News Scraper runs, and a long run to abort.
pub fn runs() -> Vec<RunTemplate> {
    let urls: Vec<Value> = (0..20)
        .map(|i| json!({"url": format!("https://www.amazon.com/dp/B0CHHSF{i:03}")}))
        .collect();
    vec![
        RunTemplate {
            slug: "01KSFDS8XWTJME33C08XMCR6B9",
            worker: AMAZON_WORKER,
            custom: json!({"urls": urls}),
            duration: Duration::from_secs(6),
            finished: true,
        },
        RunTemplate {
            slug: "01KS2A1M515HG7PZX9STTB0KPH",
            worker: NEWS_WORKER,
            custom: json!({"startURLs": [{"url": "https://example.com"}], "max_articles": 4}),
            duration: Duration::from_secs(6),
            finished: true,
        },
        RunTemplate {
            slug: "01KKGH9VYJ6YRDZBJKPEX2JPXC",
            worker: NEWS_WORKER,
            custom: json!({"startURLs": [{"url": "https://example.com/sandbox:fail"}], "max_articles": 1}),
            duration: Duration::from_secs(27),
            finished: true,
        },
        RunTemplate {
            slug: "01KJYA4S1QQ1PMDVVRP7XH72C51",
            worker: LOAD_WORKER,
            custom: json!({"count": 1000}),
            duration: Duration::from_secs(24 * 3600),
            finished: false,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_catalog_covers_every_property_type() {
        let kinds: BTreeSet<&str> = workers()
            .iter()
            .flat_map(|w| w.properties.iter().map(|p| p.kind.name()))
            .collect();
        assert_eq!(kinds.len(), 6, "{kinds:?}");
        assert!(workers().len() >= 6);
    }

    #[test]
    fn items_are_deterministic_and_lazy() {
        let w = workers()
            .into_iter()
            .find(|w| w.slug == LOAD_WORKER)
            .unwrap();
        let custom = json!({"count": 10_000_000}).as_object().unwrap().clone();
        assert_eq!(w.result_count(&custom), 10_000_000);
        let a = w.item(1, 9_999_999, &custom);
        assert_eq!(a, w.item(1, 9_999_999, &custom));
        assert_ne!(a, w.item(2, 9_999_999, &custom));
        assert_eq!(a["index"], json!(9_999_999));
    }
}

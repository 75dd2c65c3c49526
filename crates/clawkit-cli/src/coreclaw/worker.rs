//! The Worker store and a Worker's live input schema, as `claw coreclaw store` and
//! `claw coreclaw worker` print them.

use clawkit::coreclaw::Client;
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

pub(super) async fn store(
    globals: &Globals,
    client: &Client,
    search: &str,
    limit: u64,
) -> Result<(), Failure> {
    let items = client.search(search, limit).await?;
    if globals.json {
        output::json(&Value::Array(
            items
                .iter()
                .map(|i| json!({"slug": i.slug, "title": i.title, "description": i.description}))
                .collect(),
        ));
    } else {
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| vec![i.slug.clone(), i.title.clone(), i.description.clone()])
            .collect();
        output::table(&["SLUG", "TITLE", "DESCRIPTION"], &rows);
    }
    Ok(())
}

pub(super) async fn worker(
    globals: &Globals,
    client: &Client,
    slug: &str,
    json_schema: bool,
    example: bool,
) -> Result<(), Failure> {
    let w = client.worker(slug).await?;
    if json_schema {
        output::json(w.json_schema().as_value());
    } else if example {
        output::json(&Value::Object(w.example_input()));
    } else if globals.json {
        output::json(&json!({
            "slug": w.slug, "version": w.version, "readme": w.readme,
            "system": {"cpus": w.system.cpus, "memory": w.system.memory_mb,
                       "execute_limit_time_seconds": w.system.execute_limit_time_seconds,
                       "max_total_charge": w.system.max_total_charge, "max_total_traffic": w.system.max_total_traffic},
            "properties": w.properties.iter().map(|p| {
                let mut v = json!({"name": p.name, "type": p.kind.name(), "required": p.required,
                                   "title": p.title, "default": p.default, "description": p.description, "editor": p.editor});
                if let Value::Object(m) = &mut v { m.extend(p.extra.clone()); }
                v
            }).collect::<Vec<_>>(),
        }));
    } else {
        println!("Worker {} {}", w.slug, w.version);
        println!(
            "system defaults: cpus {}, memory {} MB, time limit {} s",
            w.system.cpus,
            w.system.memory_mb.map_or("-".into(), |m| m.to_string()),
            w.system
                .execute_limit_time_seconds
                .map_or("-".into(), |s| s.to_string())
        );
        let rows: Vec<Vec<String>> = w
            .properties
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.kind.name().to_string(),
                    if p.required {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    p.default.as_ref().map_or(String::new(), |d| d.to_string()),
                    [p.title.clone(), p.description.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": "),
                ]
            })
            .collect();
        output::table(
            &["FIELD", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"],
            &rows,
        );
    }
    Ok(())
}

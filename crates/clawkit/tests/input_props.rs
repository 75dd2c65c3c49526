//! Property tests of the input builder: random Worker property lists and random inputs never
//! panic it, and every input it accepts validates against the Worker's JSON Schema.

use clawkit::coreclaw::{Property, PropertyType, SystemDefaults, Worker};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn property_type() -> impl Strategy<Value = PropertyType> {
    prop_oneof![
        Just(PropertyType::String),
        Just(PropertyType::Integer),
        Just(PropertyType::Number),
        Just(PropertyType::Boolean),
        Just(PropertyType::Array),
        Just(PropertyType::Object),
        "[a-z]{3,8}".prop_map(PropertyType::Other),
    ]
}

fn property() -> impl Strategy<Value = Property> {
    (
        "[a-zA-Z_]{1,8}",
        property_type(),
        any::<bool>(),
        proptest::option::of(json_value()),
        proptest::option::of((0i64..100, 100i64..1000)),
    )
        .prop_map(|(name, kind, required, default, bounds)| {
            let mut extra = Map::new();
            if let (Some((lo, hi)), PropertyType::Integer | PropertyType::Number) = (bounds, &kind)
            {
                extra.insert("minimum".into(), json!(lo));
                extra.insert("maximum".into(), json!(hi));
            }
            Property {
                name,
                kind,
                title: Some("t".into()),
                required,
                default,
                description: None,
                editor: None,
                extra,
            }
        })
}

fn worker() -> impl Strategy<Value = Worker> {
    prop::collection::vec(property(), 0..6).prop_map(|mut properties| {
        properties.sort_by(|a, b| a.name.cmp(&b.name));
        properties.dedup_by(|a, b| a.name == b.name);
        Worker {
            slug: "01KPROPTEST".into(),
            version: "v1".into(),
            readme: String::new(),
            system: SystemDefaults {
                cpus: 0.125,
                memory_mb: Some(512),
                execute_limit_time_seconds: Some(60),
                max_total_charge: None,
                max_total_traffic: None,
            },
            properties,
            input_schema: None,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_builder_never_panics_and_what_it_accepts_is_schema_valid(
        worker in worker(),
        fields in prop::collection::btree_map("[a-zA-Z_]{1,8}", json_value(), 0..6),
        memory in prop_oneof![Just(512i64), Just(1024), any::<i64>()],
    ) {
        let mut builder = worker.input().memory_mb(memory);
        for (name, value) in &fields {
            builder = builder.set(name, value);
        }
        // Also: a whole object at once.
        let _ = worker.input_from(&Value::Object(fields.clone().into_iter().collect()));
        match builder.build() {
            Ok(input) => {
                let schema = worker.json_schema();
                let validator = jsonschema::options().build(schema.as_value()).expect("the schema compiles");
                let instance = Value::Object(input.custom.clone());
                prop_assert!(validator.is_valid(&instance), "accepted but invalid: {instance}");
                prop_assert_eq!(input.version, "v1");
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn every_schema_compiles(worker in worker()) {
        let schema = worker.json_schema();
        prop_assert!(jsonschema::options().build(schema.as_value()).is_ok());
    }
}

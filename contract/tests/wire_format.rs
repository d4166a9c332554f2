//! The JSON shapes that are read by hand-written code rather than serde's generic
//! flatten/tag/untagged machinery (which costs the widget's wasm too much code): they must
//! read exactly what the other side writes, and say clearly what is wrong otherwise.

use lianxin_contract::report::FieldValue;
use lianxin_contract::{Catalog, FieldDef, FieldKind};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const CASES: &str = include_str!("fixtures/validation_cases.json");

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn field_definitions_of_every_kind_read_back_what_was_written() {
    let label = json!({"zh-CN": "标签", "en": "Label", "ru": "Метка"});
    let fields = json!([
        {"code": "a", "label": label, "type": "text"},
        {"code": "b", "label": label, "type": "long_text", "max_len": 300, "required": true, "help": label},
        {"code": "c", "label": label, "type": "number", "min": -30, "max": 40.5, "unit": {"zh-CN": "°C", "en": "°C", "ru": "°C"}},
        {"code": "d", "label": label, "type": "date_time", "placeholder": label},
        {"code": "e", "label": label, "type": "choice", "options": [{"code": "x", "label": label}]},
        {"code": "f", "label": label, "type": "multi_choice", "options": [{"code": "y", "label": label}, {"code": "z", "label": label}]},
        {"code": "g", "label": label, "type": "plate"},
        {"code": "h", "label": label, "type": "phone"},
        {"code": "i", "label": label, "type": "money", "an_unknown_setting": 1},
    ]);
    let read: Vec<FieldDef> = serde_json::from_value(fields).expect("every kind reads");
    assert_eq!(read[0].kind, FieldKind::Text { max_len: 100 }, "default length of a line");
    assert_eq!(read[1].kind, FieldKind::LongText { max_len: 300 });
    assert!(read[1].required && read[1].help.is_some() && read[0].placeholder.is_none());
    assert!(matches!(&read[2].kind, FieldKind::Number { min, max, unit } if *min == -30.0 && *max == 40.5 && unit.en == "°C"));
    assert!(matches!(&read[5].kind, FieldKind::MultiChoice { options } if options.len() == 2));
    assert_eq!(read[8].kind, FieldKind::Money);
    let written = serde_json::to_value(&read).unwrap();
    let again: Vec<FieldDef> = serde_json::from_value(written).unwrap();
    assert_eq!(again, read);

    let fixture: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let catalog: Catalog = serde_json::from_value(fixture["catalog"].clone()).unwrap();
    let round_trip: Catalog = serde_json::from_value(serde_json::to_value(&catalog).unwrap()).unwrap();
    assert_eq!(round_trip, catalog);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_field_missing_its_settings_is_named_in_the_error() {
    let label = json!({"zh-CN": "温度", "en": "Temperature", "ru": "Температура"});
    let error = serde_json::from_value::<FieldDef>(json!({"code": "temp", "label": label, "type": "number", "min": 0})).unwrap_err().to_string();
    assert!(error.contains("temp") && error.contains("`max`"), "{error}");
    let error = serde_json::from_value::<FieldDef>(json!({"code": "pick", "label": label, "type": "choice"})).unwrap_err().to_string();
    assert!(error.contains("pick") && error.contains("`options`"), "{error}");
    let error = serde_json::from_value::<FieldDef>(json!({"code": "x", "label": label, "type": "colour"})).unwrap_err().to_string();
    assert!(error.contains("colour"), "{error}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn field_values_are_text_numbers_or_lists() {
    let read = |value: serde_json::Value| serde_json::from_value::<FieldValue>(value).map_err(|error| error.to_string());
    assert_eq!(read(json!("黑A·12345")), Ok(FieldValue::Text("黑A·12345".into())));
    assert_eq!(read(json!(3)), Ok(FieldValue::Number(3.0)));
    assert_eq!(read(json!(-2)), Ok(FieldValue::Number(-2.0)));
    assert_eq!(read(json!(36.6)), Ok(FieldValue::Number(36.6)));
    assert_eq!(read(json!(["a", "b"])), Ok(FieldValue::List(vec!["a".into(), "b".into()])));
    assert_eq!(read(json!([])), Ok(FieldValue::List(Vec::new())));
    for wrong in [json!(null), json!(true), json!({"a": 1}), json!([1])] {
        let error = read(wrong.clone()).expect_err("not a field value");
        assert!(error.contains("invalid type"), "{wrong}: {error}");
    }
    for value in [FieldValue::Text("x".into()), FieldValue::Number(1.5), FieldValue::List(vec!["c".into()])] {
        assert_eq!(read(serde_json::to_value(&value).unwrap()), Ok(value));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_rule_reads_back_from_a_problem() {
    use lianxin_contract::problem::FieldProblem;
    use lianxin_contract::{Lang, Problem, ValidationError};
    let rules = every_rule();
    let errors: Vec<FieldProblem> = rules
        .into_iter()
        .map(|rule| {
            let error = ValidationError::new("fields.temp", rule);
            FieldProblem { message: error.message(Lang::Ru), error }
        })
        .collect();
    let problem = Problem { kind: "urn:lianxin:problem:validation".into(), title: "Проверьте".into(), status: 422, detail: "Исправьте".into(), errors, limit: None };
    let written = serde_json::to_value(&problem).unwrap();
    assert_eq!(written["errors"][4], json!({"field": "fields.temp", "rule": "too_long", "max": 100, "message": problem.errors[4].message}));
    let read: Problem = serde_json::from_value(written).unwrap();
    assert_eq!(read, problem);
    for error in &problem.errors {
        let alone: ValidationError = serde_json::from_value(serde_json::to_value(&error.error).unwrap()).unwrap();
        assert_eq!(alone, error.error);
    }

    let error = serde_json::from_value::<ValidationError>(json!({"field": "description", "rule": "too_long"})).unwrap_err().to_string();
    assert!(error.contains("description") && error.contains("`max`"), "{error}");
    let error = serde_json::from_value::<ValidationError>(json!({"field": "x", "rule": "too_pretty"})).unwrap_err().to_string();
    assert!(error.contains("too_pretty"), "{error}");
}

/// One of every rule, with settings a resident might meet.
fn every_rule() -> Vec<lianxin_contract::Rule> {
    use lianxin_contract::Rule;
    vec![
        Rule::Required,
        Rule::UnknownCategory,
        Rule::KindNotAllowed,
        Rule::UnknownField,
        Rule::TooLong { max: 100 },
        Rule::OutOfRange { min: -30.0, max: 40.5 },
        Rule::WrongType { expected: "number".into() },
        Rule::NotANumber,
        Rule::InvalidChoice,
        Rule::InvalidPlate,
        Rule::InvalidPhone,
        Rule::NotAsked,
        Rule::InvalidMoney,
        Rule::InvalidDateTime,
        Rule::UnknownDistrict,
        Rule::InvalidCoordinates,
        Rule::ConsentRequired,
        Rule::TooManyPhotos { max: 3 },
        Rule::Malformed { detail: "expected `,` at line 1".into() },
        Rule::TooLong { max: 1 },
        Rule::TooLong { max: 21 },
        Rule::OutOfRange { min: 0.5, max: 1.5 },
        Rule::WrongType { expected: "list".into() },
        Rule::WrongType { expected: "text".into() },
    ]
}

/// Words a resident may see that are not Chinese or Russian but belong in those messages:
/// photo formats, an example plate, units.
const FOREIGN_WORDS_ALLOWED: &[&str] = &["JPEG", "PNG", "WebP", "HEIC", "iPhone"];

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_rule_is_worded_for_a_resident_in_every_language() {
    use lianxin_contract::{Lang, ValidationError};
    for rule in every_rule() {
        for lang in Lang::ALL {
            let message = ValidationError::new("fields.plate", rule.clone()).message(lang);
            assert!(!message.trim().is_empty(), "{rule:?} in {lang:?}");
            // No field path, no setting name, no type name of the wire format.
            for jargon in ["fields.", "contact.", "_", "number)", "list)", "text)", "(expected", "ожидается", "应为", "HTTP"] {
                assert!(!message.contains(jargon), "{rule:?} in {lang:?} says {jargon:?}: {message}");
            }
            if lang != Lang::En {
                let latin_words = message.split(|c: char| !c.is_ascii_alphabetic()).filter(|word| word.len() >= 2 && !FOREIGN_WORDS_ALLOWED.contains(word));
                assert_eq!(latin_words.collect::<Vec<_>>(), Vec::<&str>::new(), "{rule:?} in {lang:?}: {message}");
            }
        }
    }
    let ru = |rule| ValidationError::new("description", rule).message(Lang::Ru);
    assert_eq!(ru(lianxin_contract::Rule::TooLong { max: 21 }), "Не более 21 символа");
    assert_eq!(ru(lianxin_contract::Rule::TooLong { max: 25 }), "Не более 25 символов");
    assert_eq!(ru(lianxin_contract::Rule::OutOfRange { min: 0.5, max: 1.5 }), "Введите значение от 0,5 до 1,5");
    assert_eq!(ValidationError::new("description", lianxin_contract::Rule::TooLong { max: 1 }).message(Lang::En), "At most 1 character");
}

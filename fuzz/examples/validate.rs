//! Prints both validators' verdicts on a schema file and a policy text: `validate SCHEMA POLICY`.
use std::str::FromStr;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let schema_text = std::fs::read_to_string(&args[1]).unwrap_or_default();
    let policy = args[2].clone();
    let (cs, _) = cedar_policy::Schema::from_cedarschema_str(&schema_text).expect("cedar schema");
    let cp = cedar_policy::PolicySet::from_str(&policy).expect("cedar policy");
    let r = cedar_policy::Validator::new(cs).validate(&cp, cedar_policy::ValidationMode::Strict);
    println!("cedar: {}", r.validation_passed());
    for e in r.validation_errors() {
        println!("  {e}");
    }
    let ts = thuja::input::schema_from_str("s", &schema_text).expect("thuja schema");
    let tp = thuja::input::policies_from_str("p", &policy).expect("thuja policy");
    let v = thuja_compiler::validator::validate(&ts, &tp, Default::default());
    println!("thuja: {}", v.is_valid());
    for e in &v.errors {
        println!("  {e}");
    }
}

// The request and entities the operator conditions (`conditions.txt`) are evaluated with.
// Included (`include!`) by the VM's and the JIT's unit tests, which compare each engine with the
// interpreter on them; it expects `Source`, `EntityUid`, `Request`, `Entities` and the two JSON
// readers in scope.

/// One condition per line, each evaluated alone: every operator, its errors, short-circuiting.
const CONDITIONS: &str = include_str!("conditions.txt");

/// Entities the conditions read.
const ENTITIES: &str = include_str!("entities.json");

fn uid(text: &str) -> EntityUid {
    thuja_compiler::parser::parse_entity_uid(Source::new("uid", text)).unwrap()
}

fn request() -> Request {
    Request::new(uid(r#"User::"alice""#), uid(r#"Action::"view""#), uid(r#"Photo::"p""#), context_from_json_str(r#"{"n": 5, "s": "hello", "r": {"x": {"y": 1}}}"#, None)
            .unwrap())
}

fn entities() -> Entities {
    entities_from_json_str(ENTITIES, None).unwrap()
}

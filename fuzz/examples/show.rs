//! Prints the case of a seed and what the oracles made of it; with two seeds, the load errors of
//! every case in that range.
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let mut cov = thuja_fuzz::Coverage::default();
    if let [from, to] = args[..] {
        for seed in from..to {
            let case = thuja_fuzz::generate(seed, thuja_fuzz::mode_of(seed), &mut cov);
            if let Err(e) = thuja_fuzz::oracle::cedar_run(&case).load {
                println!("{seed}: {e:?}");
            }
        }
        return;
    }
    let seed = args.first().copied().unwrap_or(0);
    let case = thuja_fuzz::generate(seed, thuja_fuzz::mode_of(seed), &mut cov);
    println!(
        "{}\n---\n{}\n---\n{}",
        case.schema,
        case.policy_text(),
        serde_json::to_string(&case.entities_json()).unwrap_or_default()
    );
    for r in &case.requests {
        println!(
            "req {} {} {} {}",
            r.principal, r.action, r.resource, r.context
        );
    }
    let c = thuja_fuzz::check(&case);
    println!("{:#?}", c.cedar);
    println!("{:#?}", c.mismatches);
}

use thuja_runtime::Entity;
use thuja_runtime::value::Record;

use super::*;
use crate::ast::{ActionConstraint, LinkedPolicy};
use crate::parser::parse_policy_set;
use crate::source::Source;
use crate::template::link;

fn uid(s: &str) -> EntityUid {
    let (ty, id) = s.split_once("::").unwrap();
    EntityUid::new(EntityType::parse(ty).unwrap(), id)
}

fn policies(text: &str) -> PolicySet {
    parse_policy_set(Source::new("test", text)).unwrap()
}

/// A store where each `(child, parents)` entity has those parents.
fn store(entries: &[(&str, &[&str])]) -> Entities {
    Entities::from_entities(entries.iter().map(|(child, parents)| {
        Entity::new(
            uid(child),
            BTreeMap::new(),
            parents.iter().map(|p| uid(p)).collect(),
            BTreeMap::new(),
        )
    }))
    .unwrap()
}

fn request(p: &str, a: &str, r: &str) -> Request {
    Request::new(uid(p), uid(a), uid(r), Record::default())
}

/// The ids of the candidates.
fn ids(index: &ScopeIndex, request: &Request, entities: &Entities) -> Vec<String> {
    index
        .candidates(request, entities)
        .iter()
        .map(|n| index.policy(n).unwrap().id.to_string())
        .collect()
}

/// The scope part of the interpreter's `is_satisfied`, written out again: the model the
/// index must agree with.
fn brute_force(set: &PolicySet, request: &Request, entities: &Entities) -> RoaringBitmap {
    let is_in = |uid: &EntityUid, ancestor: &EntityUid| {
        uid == ancestor
            || entities
                .get(uid)
                .is_some_and(|e| e.is_descendant_of(ancestor))
    };
    let mut out = RoaringBitmap::new();
    for (n, active) in set.active().enumerate() {
        let resolve = |r: &EntityRef| match r {
            EntityRef::Uid(u) => Some(u.clone()),
            EntityRef::Slot(s) => active.slots.and_then(|m| m.get(s)).cloned(),
        };
        let holds = |c: &ScopeConstraint, uid: &EntityUid| match c {
            ScopeConstraint::Any => Some(true),
            ScopeConstraint::Eq(r) => Some(*uid == resolve(r)?),
            ScopeConstraint::In(r) => Some(is_in(uid, &resolve(r)?)),
            ScopeConstraint::Is(ty) => Some(uid.entity_type() == ty),
            ScopeConstraint::IsIn(ty, r) => {
                Some(uid.entity_type() == ty && is_in(uid, &resolve(r)?))
            }
        };
        let action = match &active.policy.action {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(a) => request.action() == a,
            ActionConstraint::In(gs) => gs.iter().any(|g| is_in(request.action(), g)),
        };
        if holds(&active.policy.principal, request.principal()) == Some(true)
            && action
            && holds(&active.policy.resource, request.resource()) == Some(true)
        {
            out.insert(u32::try_from(n).unwrap());
        }
    }
    out
}

/// Checks the index against the brute force for every combination of the given uids.
fn check_exhaustively(set: &PolicySet, entities: &Entities, uids: &[&str], actions: &[&str]) {
    let index = ScopeIndex::build(set);
    let joined = index.join(entities);
    assert_eq!(joined.len(), entities.positions());
    assert!(joined.is_for(entities) && joined.is_for(&entities.clone()));
    assert!(!joined.is_for(&store(HIERARCHY)));
    check_joined(set, &index, &joined, entities, uids, actions);
}

/// Checks the index, and the index with `joined` (made for `entities`), against the brute
/// force for every combination of the given uids.
fn check_joined(
    set: &PolicySet,
    index: &ScopeIndex,
    joined: &EntityKeys,
    entities: &Entities,
    uids: &[&str],
    actions: &[&str],
) {
    assert!(joined.is_for(entities));
    for p in uids {
        for a in actions {
            for r in uids {
                let req = request(p, a, r);
                let want = brute_force(set, &req, entities);
                assert_eq!(index.candidates(&req, entities), want, "{p} {a} {r}");
                // Small sets take the machine-word path: the roaring one must agree too.
                assert_eq!(
                    index.candidates_roaring(
                        req.principal(),
                        req.action(),
                        req.resource(),
                        entities
                    ),
                    want,
                    "{p} {a} {r}"
                );
                // And with the keys of the store's entities found beforehand.
                let joined = index.candidates_joined(
                    joined,
                    req.principal(),
                    req.action(),
                    req.resource(),
                    entities,
                );
                assert_eq!(joined, want, "joined: {p} {a} {r}");
            }
        }
    }
}

const HIERARCHY: &[(&str, &[&str])] = &[
    ("User::alice", &["Group::admins"]),
    ("User::bob", &["Group::staff"]),
    ("Group::admins", &["Group::staff"]),
    ("Group::staff", &[]),
    ("Doc::d1", &["Folder::f1"]),
    ("Folder::f1", &["Folder::root"]),
    ("Doc::d2", &["Folder::root", "Folder::ghost"]),
    ("Action::read", &["Action::readOnly"]),
    ("Action::list", &["Action::readOnly"]),
    ("Action::readOnly", &["Action::all"]),
    ("Action::write", &["Action::all"]),
];

const UIDS: &[&str] = &[
    "User::alice",
    "User::bob",
    "User::stranger",
    "Group::admins",
    "Group::staff",
    "Group::nobody",
    "Doc::d1",
    "Doc::d2",
    "Doc::d3",
    "Folder::f1",
    "Folder::root",
    "Folder::ghost",
];

const ACTIONS: &[&str] = &[
    "Action::read",
    "Action::list",
    "Action::write",
    "Action::readOnly",
    "Action::all",
    "Action::unknown",
];

#[test]
fn an_empty_policy_set_has_no_candidates() {
    let index = ScopeIndex::build(&PolicySet::new());
    assert!(index.is_empty());
    assert_eq!(index.len(), 0);
    let req = request("User::alice", "Action::read", "Doc::d1");
    assert!(index.candidates(&req, &Entities::default()).is_empty());
    assert!(index.candidates(&req, &store(HIERARCHY)).is_empty());
    assert_eq!(index.to_string(), "");
}

#[test]
fn principal_constraints_of_each_kind() {
    let set = policies(
        r#"permit (principal, action, resource);
permit (principal == User::"alice", action, resource);
permit (principal in Group::"staff", action, resource);
permit (principal is User, action, resource);
permit (principal is User in Group::"admins", action, resource);
permit (principal is Group in Group::"staff", action, resource);
permit (principal in User::"bob", action, resource);"#,
    );
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    assert_eq!(index.len(), 7);
    let of = |p: &str| ids(&index, &request(p, "Action::read", "Doc::d1"), &entities);
    // alice is in admins, which is in staff (transitively).
    assert_eq!(
        of("User::alice"),
        ["policy0", "policy1", "policy2", "policy3", "policy4"]
    );
    // bob is in staff directly and in himself (reflexive `in`).
    assert_eq!(
        of("User::bob"),
        ["policy0", "policy2", "policy3", "policy6"]
    );
    // staff is in staff (reflexive), and `is Group in staff` takes it.
    assert_eq!(of("Group::staff"), ["policy0", "policy2", "policy5"]);
    assert_eq!(of("Group::admins"), ["policy0", "policy2", "policy5"]);
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn resource_constraints_of_each_kind() {
    let set = policies(
        r#"permit (principal, action, resource);
permit (principal, action, resource == Doc::"d1");
permit (principal, action, resource in Folder::"root");
permit (principal, action, resource is Doc);
permit (principal, action, resource is Doc in Folder::"f1");
permit (principal, action, resource is Folder in Folder::"root");
permit (principal, action, resource in Folder::"ghost");"#,
    );
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    let of = |r: &str| {
        ids(
            &index,
            &request("User::alice", "Action::read", r),
            &entities,
        )
    };
    assert_eq!(
        of("Doc::d1"),
        ["policy0", "policy1", "policy2", "policy3", "policy4"]
    );
    // d2's parent `ghost` is not in the store, but is still its ancestor.
    assert_eq!(of("Doc::d2"), ["policy0", "policy2", "policy3", "policy6"]);
    assert_eq!(of("Folder::f1"), ["policy0", "policy2", "policy5"]);
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn an_entity_absent_from_the_store_is_only_in_itself() {
    let set = policies(
        r#"permit (principal in User::"stranger", action, resource);
permit (principal in Group::"staff", action, resource);
permit (principal is User in User::"stranger", action, resource in Doc::"d3");
permit (principal == User::"stranger", action in Action::"readOnly", resource);"#,
    );
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    let req = request("User::stranger", "Action::read", "Doc::d3");
    assert_eq!(
        ids(&index, &req, &entities),
        ["policy0", "policy2", "policy3"]
    );
    // With no store at all, nothing is in anything but itself: not even actions in groups.
    assert_eq!(
        ids(&index, &req, &Entities::default()),
        ["policy0", "policy2"]
    );
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
    check_exhaustively(&set, &Entities::default(), UIDS, ACTIONS);
}

#[test]
fn action_constraints_and_action_groups() {
    let set = policies(
        r#"permit (principal, action, resource);
permit (principal, action == Action::"read", resource);
permit (principal, action == Action::"readOnly", resource);
permit (principal, action in Action::"readOnly", resource);
permit (principal, action in [Action::"write", Action::"list"], resource);
permit (principal, action in [Action::"all"], resource);
permit (principal, action in [], resource);"#,
    );
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    let of = |a: &str| ids(&index, &request("User::alice", a, "Doc::d1"), &entities);
    // `==` is exact: `read` is in `readOnly` but not equal to it.
    assert_eq!(
        of("Action::read"),
        ["policy0", "policy1", "policy3", "policy5"]
    );
    assert_eq!(
        of("Action::list"),
        ["policy0", "policy3", "policy4", "policy5"]
    );
    assert_eq!(of("Action::write"), ["policy0", "policy4", "policy5"]);
    assert_eq!(
        of("Action::readOnly"),
        ["policy0", "policy2", "policy3", "policy5"]
    );
    assert_eq!(of("Action::unknown"), ["policy0"]);
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn template_links_are_indexed_with_their_values() {
    let mut set = policies(
        r#"permit (principal == ?principal, action == Action::"read", resource in ?resource);
permit (principal is User in ?principal, action, resource == ?resource);
forbid (principal, action, resource in Folder::"root");"#,
    );
    let values = |p: &str, r: &str| {
        BTreeMap::from([(SlotId::Principal, uid(p)), (SlotId::Resource, uid(r))])
    };
    link(
        &mut set,
        "policy0",
        "alice-f1",
        values("User::alice", "Folder::f1"),
    )
    .unwrap();
    link(
        &mut set,
        "policy0",
        "bob-root",
        values("User::bob", "Folder::root"),
    )
    .unwrap();
    link(
        &mut set,
        "policy1",
        "admins-d2",
        values("Group::admins", "Doc::d2"),
    )
    .unwrap();
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    // Templates are not active: the static forbid is 0, then the links in order.
    let numbered: Vec<_> = index.policies().iter().map(|p| p.id.to_string()).collect();
    assert_eq!(numbered, ["policy2", "alice-f1", "bob-root", "admins-d2"]);
    assert_eq!(index.policy(0).unwrap().effect, Effect::Forbid);
    assert_eq!(index.policy(3).unwrap().effect, Effect::Permit);
    assert!(index.policy(4).is_none());
    let of = |p: &str, a: &str, r: &str| ids(&index, &request(p, a, r), &entities);
    assert_eq!(
        of("User::alice", "Action::read", "Doc::d1"),
        ["policy2", "alice-f1"]
    );
    assert_eq!(
        of("User::bob", "Action::read", "Doc::d1"),
        ["policy2", "bob-root"]
    );
    assert_eq!(
        of("User::alice", "Action::write", "Doc::d2"),
        ["policy2", "admins-d2"]
    );
    assert!(of("User::bob", "Action::write", "Doc::d3").is_empty());
    assert!(index.unresolved().is_empty());
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn a_link_missing_a_slot_value_is_never_a_candidate() {
    let mut set = policies(
        r#"permit (principal, action, resource in ?resource);
permit (principal == ?principal, action, resource);
permit (principal, action, resource);"#,
    );
    // Linking refuses this; build it by hand to check the index does not panic.
    set.push_link(LinkedPolicy {
        id: "broken".into(),
        template_id: "policy0".into(),
        values: BTreeMap::new(),
    });
    set.push_link(LinkedPolicy {
        id: "wrong-slot".into(),
        template_id: "policy1".into(),
        values: BTreeMap::from([(SlotId::Resource, uid("Doc::d1"))]),
    });
    // A link to a template that is gone is not active at all.
    set.push_link(LinkedPolicy {
        id: "orphan".into(),
        template_id: "nonesuch".into(),
        values: BTreeMap::new(),
    });
    let index = ScopeIndex::build(&set);
    assert_eq!(index.len(), 3);
    assert_eq!(index.unresolved().iter().collect::<Vec<_>>(), [1, 2]);
    let entities = store(HIERARCHY);
    let req = request("User::alice", "Action::read", "Doc::d1");
    assert_eq!(ids(&index, &req, &entities), ["policy2"]);
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn mixed_constraints_intersect() {
    let set = policies(
        r#"permit (principal in Group::"admins", action in Action::"readOnly", resource is Doc in Folder::"root");
permit (principal is User, action == Action::"write", resource == Doc::"d2");
forbid (principal == User::"bob", action, resource in Folder::"ghost");
permit (principal is Group, action in [Action::"all"], resource);"#,
    );
    let entities = store(HIERARCHY);
    let index = ScopeIndex::build(&set);
    let of = |p: &str, a: &str, r: &str| ids(&index, &request(p, a, r), &entities);
    assert_eq!(of("User::alice", "Action::list", "Doc::d1"), ["policy0"]);
    assert!(of("User::bob", "Action::list", "Doc::d1").is_empty());
    assert_eq!(
        of("User::bob", "Action::write", "Doc::d2"),
        ["policy1", "policy2"]
    );
    assert_eq!(of("Group::admins", "Action::write", "Doc::d2"), ["policy3"]);
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

/// Larger sets (more than 64 policies) take the other paths: one side selecting few
/// policies checked one by one, or bitmaps intersected when every side selects many.
#[test]
fn larger_sets_agree_with_the_brute_force() {
    let principals = [
        "principal",
        "principal == User::\"alice\"",
        "principal in Group::\"staff\"",
        "principal is User",
        "principal is User in Group::\"admins\"",
    ];
    let actions = [
        "action",
        "action == Action::\"read\"",
        "action in [Action::\"readOnly\", Action::\"write\"]",
    ];
    let resources = [
        "resource",
        "resource in Folder::\"root\"",
        "resource == Doc::\"d2\"",
        "resource is Doc",
    ];
    let mut constrained = String::new();
    for p in principals {
        for a in actions {
            for r in resources {
                constrained.push_str(&format!("forbid ({p}, {a}, {r});\n"));
            }
        }
    }
    // Many unconstrained policies make every side select many.
    let many = "permit (principal, action, resource);\n".repeat(40) + &constrained;
    // Twice the constrained ones: more than 64, each side selecting few.
    let few = constrained.repeat(2);
    for text in [many, few] {
        let set = policies(&text);
        assert!(set.policies().len() > 64);
        check_exhaustively(&set, &store(HIERARCHY), UIDS, ACTIONS);
    }
}

/// In a large set, entities that select few policies as a principal have them listed in the
/// join (and requests read their candidates from that list); the others keep their keys. Both
/// agree with the brute force.
#[test]
fn listed_principal_policies_agree_with_the_brute_force() {
    let principals = [
        "principal == User::\"alice\"",
        "principal in Group::\"staff\"",
        "principal is User",
        "principal is User in Group::\"admins\"",
    ];
    let actions = [
        "action",
        "action == Action::\"read\"",
        "action in [Action::\"readOnly\", Action::\"write\"]",
    ];
    let resources = [
        "resource",
        "resource in Folder::\"root\"",
        "resource == Doc::\"d2\"",
        "resource is Doc",
    ];
    // Two policies per principal constraint (with varying actions and resources), one
    // unconstrained: alice selects nine (too many to list), bob five, the groups three.
    let mut text = String::from("forbid (principal, action == Action::\"write\", resource);\n");
    for (i, p) in principals.iter().enumerate() {
        for j in 0..2 {
            let (a, r) = (actions[(i + j) % 3], resources[(i + 2 * j) % 4]);
            text.push_str(&format!("permit ({p}, {a}, {r});\n"));
        }
    }
    // Principals no request names, to make the set large.
    for i in 0..60 {
        text.push_str(&format!(
            "permit (principal == User::\"x{i}\", action, resource);\n"
        ));
    }
    let set = policies(&text);
    assert!(set.policies().len() > 64);
    let entities = store(HIERARCHY);
    let joined = ScopeIndex::build(&set).join(&entities);
    // Some listed in their entry, some (bob's five) in the spill, some not listed (alice).
    let (inline, spilled) = joined.listed_entities();
    assert!(inline > 0 && spilled > 0, "{inline} + {spilled} listed");
    assert!(inline + spilled < entities.len());
    check_exhaustively(&set, &entities, UIDS, ACTIONS);
}

#[test]
fn the_listing_names_every_key() {
    let set = policies(
        r#"permit (principal in Group::"admins", action in [Action::"read", Action::"list"], resource is Doc in Folder::"root");
forbid (principal, action == Action::"write", resource is Doc);"#,
    );
    let listing = ScopeIndex::build(&set).to_string();
    assert_eq!(
        listing,
        r#"0: policy0 (permit)
1: policy1 (forbid)
principal any: {1}
principal in Group::"admins": {0}
action == Action::"write": {1}
action in Action::"list": {0}
action in Action::"read": {0}
resource is Doc: {1}
resource is Doc in Folder::"root": {0}
"#
    );
}

/// A principal in many groups matches many keys (looked up by binary search once there are
/// more than a few), and a store with more groups than policies name is matched by walking
/// the index's keys instead of the ancestors: both ways agree with the brute force.
#[test]
fn many_ancestors_and_many_keys_agree_with_the_brute_force() {
    let groups: Vec<String> = (0..40).map(|g| format!("Group::g{g}")).collect();
    let mut hierarchy: Vec<(String, Vec<String>)> = vec![
        ("User::alice".into(), groups[..30].to_vec()),
        ("User::bob".into(), groups[25..].to_vec()),
    ];
    for g in &groups {
        hierarchy.push((g.clone(), vec![]));
    }
    let entries: Vec<(&str, Vec<&str>)> = hierarchy
        .iter()
        .map(|(c, ps)| (c.as_str(), ps.iter().map(String::as_str).collect()))
        .collect();
    let entries: Vec<(&str, &[&str])> = entries.iter().map(|(c, ps)| (*c, &ps[..])).collect();
    let entities = store(&entries);
    let in_group = |g: &String| {
        let (_, id) = g.split_once("::").unwrap();
        format!("Group::\"{id}\"")
    };
    // Few keys (every fifth group, 3 policies each): the ancestors outnumber them.
    let few: String = groups
        .iter()
        .step_by(5)
        .flat_map(|g| {
            let g = in_group(g);
            [
                format!("permit (principal in {g}, action, resource);\n"),
                format!("forbid (principal in {g}, action == Action::\"write\", resource);\n"),
                format!("permit (principal is User in {g}, action, resource is Doc);\n"),
            ]
        })
        .collect::<String>()
        .repeat(3);
    // Every group named, with more than 64 policies in all.
    let all: String = groups
        .iter()
        .map(|g| {
            let g = in_group(g);
            format!(
                "permit (principal in {g}, action in [Action::\"read\", Action::\"write\"], resource);\n\
                 forbid (principal is User in {g}, action, resource in Folder::\"root\");\n"
            )
        })
        .collect();
    let mut uids: Vec<&str> = vec!["User::alice", "User::bob", "User::stranger", "Doc::d1"];
    uids.extend(groups.iter().take(3).map(String::as_str));
    for text in [few, all] {
        let set = policies(&text);
        assert!(set.policies().len() > 64);
        check_exhaustively(&set, &entities, &uids, &["Action::read", "Action::write"]);
    }
}

/// Keys are found through the principal itself and through its ancestors whether the index
/// has keys of few types (and skips looking up uids of other types, once it has many keys)
/// or of more types than it tells apart.
#[test]
fn keys_of_few_and_many_types_are_all_found() {
    for types in [&["A", "B", "C"][..], &["A", "B", "C", "D", "E", "F"]] {
        let mut text = String::new();
        for ty in types {
            text.push_str(&format!(
                "permit (principal in {ty}::\"x\", action, resource);\n"
            ));
            text.push_str(&format!(
                "forbid (principal == {ty}::\"y\", action, resource);\n"
            ));
        }
        let owned: Vec<String> = types.iter().map(|ty| format!("{ty}::x")).collect();
        let chain: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut hierarchy: Vec<(&str, &[&str])> = vec![("A::y", &[]), ("G::x", &chain[1..])];
        for (i, uid) in chain.iter().enumerate() {
            hierarchy.push((uid, &chain[i + 1..]));
        }
        let entities = store(&hierarchy);
        let mut uids = chain.clone();
        uids.extend(["A::y", "C::y", "G::x", "G::y"]);
        // Many keys of type A make the index large enough to tell types apart.
        let filler: String = (0..70)
            .map(|i| format!("permit (principal == A::\"f{i}\", action, resource);\n"))
            .collect();
        for text in [text.clone(), text.repeat(6), text + &filler] {
            let set = policies(&text);
            check_exhaustively(&set, &entities, &uids, &["Action::read"]);
        }
    }
}

/// A join updated with its store (entities upserted and removed, hierarchies changed) answers
/// as the brute force does on the updated store, in small and large policy sets.
#[test]
fn an_updated_join_agrees_with_the_brute_force() {
    let entity = |child: &str, parents: &[&str]| {
        Entity::new(
            uid(child),
            BTreeMap::new(),
            parents.iter().map(|p| uid(p)).collect(),
            BTreeMap::new(),
        )
    };
    let small_text = "permit (principal in Group::\"staff\", action in Action::\"readOnly\", resource in Folder::\"root\");
         forbid (principal == User::\"bob\", action, resource is Doc in Folder::\"ghost\");
         permit (principal is User in Group::\"admins\", action == Action::\"write\", resource);";
    let small = policies(small_text);
    let mut large = String::new();
    for i in 0..70 {
        large.push_str(&format!(
            "permit (principal == User::\"x{i}\", action, resource);\n"
        ));
    }
    let large = policies(&format!("{large}{small_text}"));
    assert!(large.policies().len() > 64);
    // Each step: upserts, removals.
    let steps: Vec<(Vec<Entity>, Vec<&str>)> = vec![
        (vec![entity("User::alice", &["Group::staff"])], vec![]),
        (
            vec![
                entity("Doc::d3", &["Folder::ghost"]),
                entity("Folder::ghost", &["Folder::root"]),
            ],
            vec![],
        ),
        (vec![entity("Group::admins", &[])], vec!["User::bob"]),
        (
            vec![
                entity("User::bob", &["Group::admins"]),
                entity("User::alice", &["Group::admins"]),
            ],
            vec!["Folder::f1"],
        ),
        (vec![entity("Action::write", &["Action::readOnly"])], vec![]),
        (vec![], vec!["Folder::ghost", "Group::staff"]),
    ];
    for set in [&small, &large] {
        let index = ScopeIndex::build(set);
        let mut entities = store(HIERARCHY);
        let mut joined = index.join(&entities);
        for (upserts, removals) in &steps {
            let updated = entities
                .update(upserts.iter().cloned(), removals.iter().map(|r| uid(r)))
                .unwrap();
            joined = joined.update(&index, &entities, &updated);
            entities = updated.entities;
            assert_eq!(joined.len(), entities.positions());
            check_joined(set, &index, &joined, &entities, UIDS, ACTIONS);
        }
        // Many more changes: changed entities fill several chunks of entries.
        for round in 0..150 {
            let group = ["Group::admins", "Group::staff", "Group::nobody"][round % 3];
            let user = ["User::alice", "User::bob", "User::stranger"][round % 3];
            let upserts = [
                entity(user, &[group]),
                entity(&format!("Doc::n{round}"), &[]),
            ];
            let updated = entities.update(upserts, []).unwrap();
            joined = joined.update(&index, &entities, &updated);
            entities = updated.entities;
            if round % 25 == 24 {
                check_joined(set, &index, &joined, &entities, UIDS, ACTIONS);
            }
        }
        assert!(entities.positions() > entities.built_positions() + 128);
    }
}

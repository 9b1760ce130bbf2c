//! A TinyTodo-style application: users in nested teams own to-do lists and share them with
//! reader and editor teams. 10 policies; with the default sizes about 6,000 entities.

use serde_json::json;

use crate::rng::Rng;
use crate::{RequestJson, Workload, entity, uid};

const SCHEMA: &str = r#"namespace TinyTodo {
  entity Application;
  entity Team in [Team, Application];
  entity User in [Team, Application] { name: String, joinedAt?: datetime, admin?: Bool };
  entity List in [Application] {
    owner: User, name: String, readers: Team, editors: Team, tasks: Set<Task>, archived: Bool,
  };
  type Task = { id: Long, name: String, done: Bool };
  action CreateList, GetLists appliesTo { principal: [User], resource: [Application] };
  action GetList, UpdateList, DeleteList, CreateTask, UpdateTask, DeleteTask, EditShare
    appliesTo { principal: [User], resource: [List], context: { ip?: ipaddr } };
}
"#;

const POLICIES: &str = r#"
permit (principal, action in [TinyTodo::Action::"CreateList", TinyTodo::Action::"GetLists"],
        resource == TinyTodo::Application::"TinyTodo");
permit (principal, action, resource is TinyTodo::List) when { resource.owner == principal };
permit (principal, action == TinyTodo::Action::"GetList", resource)
  when { principal in resource.readers || principal in resource.editors };
permit (principal, action in [TinyTodo::Action::"UpdateList", TinyTodo::Action::"CreateTask",
        TinyTodo::Action::"UpdateTask", TinyTodo::Action::"DeleteTask"], resource)
  when { principal in resource.editors };
permit (principal in TinyTodo::Team::"admins", action, resource);
permit (principal, action == TinyTodo::Action::"GetList", resource)
  when { principal has admin && principal.admin };
forbid (principal in TinyTodo::Team::"interns", action == TinyTodo::Action::"CreateList", resource);
forbid (principal, action == TinyTodo::Action::"DeleteList", resource)
  when { context has ip && !context.ip.isInRange(ip("10.0.0.0/8")) };
forbid (principal, action in [TinyTodo::Action::"UpdateTask", TinyTodo::Action::"CreateTask"], resource)
  when { resource.archived };
forbid (principal, action == TinyTodo::Action::"EditShare", resource)
  unless { resource.owner == principal };
"#;

const ACTIONS: [&str; 9] = [
    "CreateList",
    "GetLists",
    "GetList",
    "UpdateList",
    "DeleteList",
    "CreateTask",
    "UpdateTask",
    "DeleteTask",
    "EditShare",
];

/// `users` users, `lists` lists and `teams` teams (plus `admins`, `interns` and `everyone`),
/// and `requests` requests, from `seed`.
pub fn tinytodo(users: usize, lists: usize, teams: usize, requests: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let app = || uid("TinyTodo::Application", "TinyTodo");
    let mut entities = vec![entity(
        "TinyTodo::Application",
        "TinyTodo",
        json!({}),
        vec![],
    )];
    let team = |i: usize| uid("TinyTodo::Team", format!("team{i}"));
    entities.push(entity("TinyTodo::Team", "everyone", json!({}), vec![app()]));
    for special in ["admins", "interns"] {
        entities.push(entity(
            "TinyTodo::Team",
            special,
            json!({}),
            vec![uid("TinyTodo::Team", "everyone")],
        ));
    }
    for i in 0..teams {
        // Teams form a forest three levels deep under `everyone`.
        let parent = if i < 10 {
            uid("TinyTodo::Team", "everyone")
        } else {
            team(i / 10 - 1)
        };
        entities.push(entity(
            "TinyTodo::Team",
            format!("team{i}"),
            json!({}),
            vec![parent],
        ));
    }
    for u in 0..users {
        let mut parents: Vec<_> = (0..1 + rng.below(3))
            .map(|_| team(rng.below(teams)))
            .collect();
        if rng.chance(2) {
            parents.push(uid("TinyTodo::Team", "interns"));
        }
        if u % 500 == 0 {
            parents.push(uid("TinyTodo::Team", "admins"));
        }
        let mut attrs = json!({"name": format!("User {u}")});
        if rng.chance(50) {
            attrs["joinedAt"] = json!(format!(
                "2024-0{}-1{}T09:00:00Z",
                1 + rng.below(9),
                rng.below(10)
            ));
        }
        if rng.chance(5) {
            attrs["admin"] = json!(rng.chance(50));
        }
        entities.push(entity("TinyTodo::User", format!("user{u}"), attrs, parents));
    }
    for l in 0..lists {
        let tasks: Vec<_> = (0..rng.below(4))
            .map(|t| json!({"id": t, "name": format!("task {t}"), "done": rng.chance(50)}))
            .collect();
        let attrs = json!({
            "owner": uid("TinyTodo::User", format!("user{}", rng.below(users))),
            "name": format!("List {l}"),
            "readers": team(rng.below(teams)),
            "editors": team(rng.below(teams)),
            "tasks": tasks,
            "archived": rng.chance(10),
        });
        entities.push(entity(
            "TinyTodo::List",
            format!("list{l}"),
            attrs,
            vec![app()],
        ));
    }
    let requests = (0..requests)
        .map(|_| {
            let action = *rng.pick(&ACTIONS);
            let on_app = matches!(action, "CreateList" | "GetLists");
            let resource = if on_app {
                app()
            } else {
                uid("TinyTodo::List", format!("list{}", rng.below(lists)))
            };
            let context = if !on_app && rng.chance(50) {
                json!({"ip": format!("{}.{}.0.1", if rng.chance(50) { 10 } else { 192 }, rng.below(256))})
            } else {
                json!({})
            };
            RequestJson {
                principal: uid("TinyTodo::User", format!("user{}", rng.below(users))),
                action: uid("TinyTodo::Action", action),
                resource,
                context,
            }
        })
        .collect();
    Workload {
        name: "tinytodo".into(),
        schema: SCHEMA.into(),
        policies: POLICIES.into(),
        entities: serde_json::Value::Array(entities).to_string(),
        requests,
    }
}

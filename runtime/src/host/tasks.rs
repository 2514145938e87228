//! `tug:engine/tasks` and `tug:engine/task-streams`: the tasks of swarm services and their logs. Tasks
//! carry no labels of their own: a task is the run's when its service is, and task lists keep only the
//! tasks of the run's services.

use serde_json::Value;
use wasmtime::component::Resource;

use super::{
    bindings::{
        task_streams::{self, LogsOptions},
        tasks::{self, ListOptions},
    },
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    resources::HostFrameReader,
    services::swarm_logs,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::Op,
};

/// `/tasks/{id}{rest}`.
fn task_path(id: &str, rest: &str) -> String {
    format!("/tasks/{}{rest}", segment(id))
}

/// Keeps the tasks of a list whose service is one of `services` (none of an answer that is not a list).
fn owned_tasks(list: &str, services: &std::collections::BTreeSet<String>) -> String {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(list) else {
        return "[]".to_owned();
    };
    let kept: Vec<Value> = items
        .into_iter()
        .filter(|t| t["ServiceID"].as_str().is_some_and(|s| services.contains(s)))
        .collect();
    Value::Array(kept).to_string()
}

impl tasks::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::TaskList, &e, move |_, call| {
            Box::pin(async move {
                let client = call.client()?.clone();
                let owned = call.gate().owned_services(&client).await?;
                let list = call
                    .text(Request::get("/tasks").filters(o.filters.as_ref()))
                    .await?;
                Ok(match owned {
                    Some(services) => owned_tasks(&list, &services),
                    None => list,
                })
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::TaskInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.text(Request::get(task_path(&id, ""))).await
            })
        })
        .await
    }
}

impl task_streams::Host for HostState {
    async fn logs(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: LogsOptions,
    ) -> HostResult<Resource<HostFrameReader>> {
        let r = self
            .engine_call(Op::TaskLogs, &e, move |_, call| {
                Box::pin(async move {
                    let task = call.resolve(&id).await?;
                    let tty = task.doc["Spec"]["ContainerSpec"]["TTY"]
                        .as_bool()
                        .unwrap_or(false);
                    call.frames(swarm_logs!(Request::get(task_path(&task.id, "/logs")), o), tty)
                        .await
                })
            })
            .await;
        self.hand_out(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lists_keep_the_runs_services() {
        let list = r#"[{"ID":"t1","ServiceID":"s1"},{"ID":"t2","ServiceID":"s2"},{"ID":"t3"}]"#;
        let mine = ["s1".to_owned()].into_iter().collect();
        assert_eq!(owned_tasks(list, &mine), r#"[{"ID":"t1","ServiceID":"s1"}]"#);
        assert_eq!(owned_tasks("oops", &mine), "[]");
    }
}

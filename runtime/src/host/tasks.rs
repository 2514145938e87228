//! `tug:engine/tasks` and `tug:engine/task-streams`: the tasks of swarm services and their logs. Tasks
//! carry no labels of their own: a task is the run's when its service is, and task lists keep only the
//! tasks of the run's services.

use serde_json::Value;
use wasmtime::component::Resource;

use super::{
    bindings::{
        task_streams::{self, LogsOptions},
        tasks::{self, ListOptions},
        types::Error as WitError,
    },
    error::{check, HostResult, IntoWit},
    query::QueryExt,
    resources::{HostEngine, HostFrameReader},
    state::HostState,
};
use crate::engine::{segment, Request};

/// `/tasks/{id}{rest}`.
fn task_path(id: &str, rest: &str) -> String {
    format!("/tasks/{}{rest}", segment(id))
}

impl HostState {
    /// Checks an operation on a task and returns its full id and inspect document (its service must be
    /// the run's).
    async fn own_task(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        id: &str,
    ) -> wasmtime::Result<Result<(String, Value), WitError>> {
        let allowed = self.allow(operation);
        self.target(id);
        if let Err(d) = allowed {
            return Ok(self.ended(Err(d.into_wit()), 0));
        }
        let client = self.client(e)?;
        let owned = self.gate.task(&client, id, "id").await.map_err(IntoWit::into_wit);
        if owned.is_err() {
            return Ok(self.ended(owned, 0));
        }
        Ok(owned)
    }
}

macro_rules! own_task {
    ($self:ident, $e:expr, $op:expr, $id:expr) => {
        match $self.own_task(&$e, $op, &$id).await? {
            Ok(found) => found,
            Err(err) => return Ok(Err(err)),
        }
    };
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
        check!(self, self.allow("TaskList"));
        let client = self.client(&e)?;
        let owned = check!(self, self.gate.owned_services(&client).await);
        let list = check!(
            self,
            self.json_text(&e, Request::get("/tasks").filters(o.filters.as_ref()))
                .await?
        );
        Ok(Ok(match owned {
            Some(services) => owned_tasks(&list, &services),
            None => list,
        }))
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        let (id, _) = own_task!(self, e, "TaskInspect", id);
        self.json_text(&e, Request::get(task_path(&id, ""))).await
    }
}

impl task_streams::Host for HostState {
    async fn logs(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: LogsOptions,
    ) -> HostResult<Resource<HostFrameReader>> {
        let (id, task) = own_task!(self, e, "TaskLogs", id);
        let tty = task["Spec"]["ContainerSpec"]["TTY"].as_bool().unwrap_or(false);
        let req = Request::get(task_path(&id, "/logs"))
            .opt("details", o.details)
            .opt("follow", o.follow)
            .opt("stdout", o.stdout)
            .opt("stderr", o.stderr)
            .opt("since", o.since)
            .opt("timestamps", o.timestamps)
            .opt("tail", o.tail);
        self.frame_reader(&e, req, tty).await
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

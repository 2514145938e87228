//! `tug:engine/system` and `tug:engine/system-streams`.

use base64::Engine as _;
use wasmtime::component::Resource;

use super::{
    bindings::{
        system::{self, PingInfo},
        system_streams::{self, EventsOptions},
        types::AuthConfig,
    },
    error::{check, wit_error, HostResult, IntoHost},
    query::{auth_json, QueryExt},
    resources::{HostAttachedSocket, HostEngine, HostJsonStream},
    state::HostState,
    types_impl::text,
};
use crate::engine::Request;

impl HostState {
    /// A `json` call whose answer is returned as text.
    pub(crate) async fn json_text(&mut self, e: &Resource<HostEngine>, req: Request) -> HostResult<String> {
        let client = self.client(e)?;
        let result = client
            .call(req)
            .await
            .map(|r| text(r.into_body()))
            .map_err(wit_error);
        let bytes = result.as_ref().map_or(0, |t| t.len() as u64);
        Ok(self.ended(result, bytes))
    }

    /// A `json` call whose answer is discarded.
    pub(crate) async fn json_unit(&mut self, e: &Resource<HostEngine>, req: Request) -> HostResult<()> {
        let client = self.client(e)?;
        let result = client.call(req).await.map(|_| ()).map_err(wit_error);
        Ok(self.ended(result, 0))
    }

    /// A `json-stream` call, as a handle.
    pub(crate) async fn json_stream(
        &mut self,
        e: &Resource<HostEngine>,
        req: Request,
    ) -> HostResult<Resource<HostJsonStream>> {
        let client = self.client(e)?;
        let result = client.json_stream(req).await.map_err(wit_error);
        match self.ended(result, 0) {
            Ok(s) => Ok(Ok(self.table.push(HostJsonStream::new(s))?)),
            Err(err) => Ok(Err(err)),
        }
    }
}

impl system::Host for HostState {
    async fn ping(&mut self, e: Resource<HostEngine>) -> HostResult<PingInfo> {
        check!(self, self.allow("SystemPing"));
        let client = self.client(&e)?;
        client
            .ping()
            .await
            .map(|p| PingInfo {
                api_version: p.api_version.map(|v| v.to_string()).unwrap_or_default(),
                os_type: p.os_type,
                experimental: p.experimental,
                builder_version: p.builder_version,
            })
            .into_host()
    }

    async fn ping_head(&mut self, e: Resource<HostEngine>) -> HostResult<PingInfo> {
        check!(self, self.allow("SystemPingHead"));
        let client = self.client(&e)?;
        let result = client
            .call(Request::head("/_ping").unversioned())
            .await
            .map(|r| {
                let h = r.headers();
                let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                PingInfo {
                    api_version: text("api-version").unwrap_or_default(),
                    os_type: text("ostype"),
                    experimental: text("docker-experimental").is_some_and(|v| v == "true"),
                    builder_version: text("builder-version"),
                }
            })
            .map_err(wit_error);
        Ok(self.ended(result, 0))
    }

    async fn session(
        &mut self,
        e: Resource<HostEngine>,
        headers: Vec<(String, String)>,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        check!(self, self.allow("Session"));
        if !self.gate.policy.unrestricted {
            check!(
                self,
                Err(crate::policy::Denial::call(
                    "session",
                    "a session carries gRPC that tug cannot inspect: only an unrestricted policy grants it",
                ))
            );
        }
        // The daemon serves the session's gRPC over HTTP/2 cleartext on the upgraded connection.
        let mut req =
            Request::post("/session").header(http::header::UPGRADE, http::HeaderValue::from_static("h2c"));
        for (k, v) in &headers {
            if !k.to_ascii_lowercase().starts_with("x-docker-expose-session-") {
                check!(
                    self,
                    Err(crate::policy::Denial::field(
                        "session",
                        k.clone(),
                        "only X-Docker-Expose-Session-* headers"
                    ))
                );
            }
            let (Ok(name), Ok(value)) = (
                http::HeaderName::try_from(k.as_str()),
                http::HeaderValue::try_from(v.as_str()),
            ) else {
                return Ok(Err(super::bindings::types::Error::InvalidArgument(format!(
                    "header {k}"
                ))));
            };
            req = req.header(name, value);
        }
        let client = self.client(&e)?;
        let result = client.hijack(req).await.map_err(wit_error);
        match self.ended(result, 0) {
            Ok(socket) => {
                let resize = super::resources::ResizeTarget {
                    client,
                    path: "/session/resize".into(),
                };
                Ok(Ok(self
                    .table
                    .push(HostAttachedSocket::new(socket, true, true, resize))?))
            }
            Err(err) => Ok(Err(err)),
        }
    }

    async fn version(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("SystemVersion"));
        self.json_text(&e, Request::get("/version")).await
    }

    async fn info(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("SystemInfo"));
        self.json_text(&e, Request::get("/info")).await
    }

    async fn data_usage(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("SystemDataUsage"));
        self.json_text(&e, Request::get("/system/df")).await
    }

    async fn auth(&mut self, e: Resource<HostEngine>, config: AuthConfig) -> HostResult<String> {
        check!(self, self.allow("SystemAuth"));
        if let Some(server) = &config.server_address {
            check!(self, self.gate.registry(&format!("{server}/x"), "server-address"));
        }
        let req = match Request::post("/auth").json(&auth_json(&config)) {
            Ok(r) => r,
            Err(err) => return Err(err).into_host(),
        };
        self.json_text(&e, req).await
    }
}

impl system_streams::Host for HostState {
    async fn events(
        &mut self,
        e: Resource<HostEngine>,
        o: EventsOptions,
    ) -> HostResult<Resource<HostJsonStream>> {
        check!(self, self.allow("SystemEvents"));
        let filters = self.gate.scope_filters(o.filters);
        let req = Request::get("/events")
            .opt("since", o.since)
            .opt("until", o.until)
            .filters(filters.as_ref());
        self.json_stream(&e, req).await
    }
}

/// Decodes the base64 JSON of an `X-Docker-Container-Path-Stat` header.
pub(crate) fn path_stat(header: Option<&http::HeaderValue>) -> String {
    header
        .and_then(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h.as_bytes())
                .ok()
        })
        .map(|b| text(b.into()))
        .unwrap_or_else(|| "null".to_owned())
}

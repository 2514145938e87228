//! `tug:engine/system` and `tug:engine/system-streams`. What the engine says about itself and its other
//! users is narrowed to what the run may see (`host/system_views.rs`).

use base64::Engine as _;
use wasmtime::component::Resource;

use super::{
    bindings::{
        system::{self, PingInfo},
        system_streams::{self, EventsOptions},
        types::{AuthConfig, Error as WitError},
    },
    call::{HostEngine, Reentry},
    error::HostResult,
    query::{auth_json, QueryExt},
    resources::{HostAttachedSocket, HostJsonStream, Watch},
    state::HostState,
    types_impl::text,
};
use crate::{
    engine::{Ping, Request},
    policy::{Denial, Op},
};

fn ping_info(p: Ping) -> PingInfo {
    PingInfo {
        api_version: p.api_version.map(|v| v.to_string()).unwrap_or_default(),
        os_type: p.os_type,
        experimental: p.experimental,
        builder_version: p.builder_version,
    }
}

impl system::Host for HostState {
    async fn ping(&mut self, e: Resource<HostEngine>) -> HostResult<PingInfo> {
        self.engine_call(Op::SystemPing, &e, |_, call| {
            Box::pin(async move { Ok(ping_info(call.client()?.ping().await?)) })
        })
        .await
    }

    async fn ping_head(&mut self, e: Resource<HostEngine>) -> HostResult<PingInfo> {
        self.engine_call(Op::SystemPingHead, &e, |_, call| {
            Box::pin(async move {
                let r = call.client()?.call(Request::head("/_ping").unversioned()).await?;
                let h = r.headers();
                let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                Ok(PingInfo {
                    api_version: text("api-version").unwrap_or_default(),
                    os_type: text("ostype"),
                    experimental: text("docker-experimental").is_some_and(|v| v == "true"),
                    builder_version: text("builder-version"),
                })
            })
        })
        .await
    }

    async fn session(
        &mut self,
        e: Resource<HostEngine>,
        headers: Vec<(String, String)>,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let engine = self.table.get(&e)?.clone();
        let r = self
            .engine_call(Op::Session, &e, move |_, call| {
                Box::pin(async move {
                    if !call.gate().unrestricted() {
                        return Err(Denial::call(
                            "session",
                            "a session carries gRPC that tug cannot inspect: only an unrestricted policy grants it",
                        )
                        .into());
                    }
                    // The daemon serves the session's gRPC over HTTP/2 cleartext on the upgraded connection.
                    let mut req = Request::post("/session")
                        .header(http::header::UPGRADE, http::HeaderValue::from_static("h2c"));
                    for (k, v) in &headers {
                        if !k.to_ascii_lowercase().starts_with("x-docker-expose-session-") {
                            return Err(Denial::field(
                                "session",
                                k.clone(),
                                "only X-Docker-Expose-Session-* headers",
                            )
                            .into());
                        }
                        let (Ok(name), Ok(value)) = (
                            http::HeaderName::try_from(k.as_str()),
                            http::HeaderValue::try_from(v.as_str()),
                        ) else {
                            return Err(WitError::InvalidArgument(format!("header {k}")));
                        };
                        req = req.header(name, value);
                    }
                    let socket = call.client()?.hijack(req).await?;
                    let resize = Reentry::new(&engine, Op::Session, "session", "/session/resize".into());
                    Ok(HostAttachedSocket::new(socket, true, true, resize))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn version(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        self.engine_call(Op::SystemVersion, &e, |_, call| {
            Box::pin(async move { call.text(Request::get("/version")).await })
        })
        .await
    }

    async fn info(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        self.engine_call(Op::SystemInfo, &e, |s, call| {
            Box::pin(async move {
                let info = call.text(Request::get("/info")).await?;
                if call.gate().sees_everything() {
                    return Ok(info);
                }
                let text = super::system_views::info(s, call, &info).await?;
                call.bytes(text.len() as u64);
                Ok(text)
            })
        })
        .await
    }

    async fn data_usage(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        self.engine_call(Op::SystemDataUsage, &e, |_, call| {
            Box::pin(async move {
                let df = call.text(Request::get("/system/df")).await?;
                if call.gate().sees_everything() {
                    return Ok(df);
                }
                let text = super::system_views::data_usage(call.gate(), &df);
                call.bytes(text.len() as u64);
                Ok(text)
            })
        })
        .await
    }

    async fn auth(&mut self, e: Resource<HostEngine>, config: AuthConfig) -> HostResult<String> {
        self.engine_call(Op::SystemAuth, &e, move |_, call| {
            Box::pin(async move {
                // Without a server address the daemon logs in to Docker Hub: that registry must be allowed
                // like any other.
                let server = config
                    .server_address
                    .clone()
                    .unwrap_or_else(|| "docker.io".into());
                call.target(&server);
                call.gate()
                    .registry(&format!("{}/x", server_host(&server)), "server-address")?;
                let body = serde_json::to_vec(&auth_json(&config))
                    .map_err(|e| WitError::InvalidArgument(format!("auth config: {e}")))?;
                call.gate().canonical(
                    crate::policy::canonical::BodyKind::Auth,
                    &String::from_utf8_lossy(&body),
                )?;
                let req = Request::post("/auth").json_bytes(bytes::Bytes::from(body));
                call.text(req).await
            })
        })
        .await
    }
}

impl system_streams::Host for HostState {
    async fn events(
        &mut self,
        e: Resource<HostEngine>,
        o: EventsOptions,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::SystemEvents, &e, move |_, call| {
                Box::pin(async move {
                    let filters = call.gate().scope_filters(o.filters);
                    let req = Request::get("/events")
                        .opt("since", o.since)
                        .opt("until", o.until)
                        .filters(filters.as_ref());
                    let stream = call.json_stream(req).await?;
                    // Whatever the engine's filters did, only the run's own objects' events pass.
                    let watch = if call.gate().sees_everything() {
                        Watch::None
                    } else {
                        Watch::RunEvents {
                            run_id: call.gate().run_id.clone(),
                        }
                    };
                    Ok(HostJsonStream::watched(stream, watch))
                })
            })
            .await;
        self.hand_out(r)
    }
}

/// The host (and port) a login goes to, as the daemon reads a server address: a URL without its scheme,
/// user info and path (`https://x@evil.example/v2/` → `evil.example`).
fn server_host(address: &str) -> &str {
    let rest = address
        .strip_prefix("https://")
        .or_else(|| address.strip_prefix("http://"))
        .unwrap_or(address);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit('@').next().unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::server_host;

    #[test]
    fn login_hosts_as_the_daemon_reads_them() {
        assert_eq!(server_host("x@evil.example"), "evil.example");
        assert_eq!(server_host("https://u:p@127.0.0.1:5001/v2/"), "127.0.0.1:5001");
        assert_eq!(server_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(server_host("docker.io"), "docker.io");
    }
}

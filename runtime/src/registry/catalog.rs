//! Read-only listings: a registry's catalog (`GET /v2/_catalog`) and a repository's tags
//! (`GET /v2/<name>/tags/list`), with the `Link: <…>; rel="next"` pages followed on the same host up to a
//! bound.

use http::{header, Method, StatusCode};
use serde::Deserialize;

use super::{
    client::{read_limited, Call},
    error::{RegistryError, Result},
    reference::api_host,
    Reference, Registry,
};

/// The most names a listing returns, whatever the caller asks.
pub const MAX_LISTING: usize = 10_000;
/// Names asked for per page (`n`): registries cap it (distribution at 1000 by default); small pages keep
/// each answer small.
const PAGE: usize = 100;
/// The largest page body read.
const PAGE_LIMIT: usize = 4 << 20;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Registry {
    /// The repositories registry `registry` (`127.0.0.1:5000`, `docker.io`) lists in its catalog, in its
    /// order, at most `limit` (capped at [`MAX_LISTING`]).
    pub async fn catalog(&self, registry: &str, limit: usize) -> Result<Vec<String>> {
        let host = api_host(registry);
        self.listing(
            host,
            "/v2/_catalog",
            "registry:catalog:*".into(),
            "catalog",
            limit,
            |b| serde_json::from_slice::<CatalogPage>(b).map(|p| p.repositories.unwrap_or_default()),
        )
        .await
    }

    /// The tags of `repository`'s repository (its tag and digest are ignored), in the registry's order,
    /// at most `limit` (capped at [`MAX_LISTING`]). A repository the registry does not know is an error
    /// (`NAME_UNKNOWN`, 404).
    pub async fn list_tags(&self, repository: &Reference, limit: usize) -> Result<Vec<String>> {
        let name = repository.repository();
        self.listing(
            repository.api_host(),
            &format!("/v2/{name}/tags/list"),
            format!("repository:{name}:pull"),
            &format!("tags of {name}"),
            limit,
            |b| serde_json::from_slice::<TagsPage>(b).map(|p| p.tags.unwrap_or_default()),
        )
        .await
    }

    /// Reads the pages of a listing: `path?n=…`, then each `Link` of rel `next` on the same host, until
    /// `limit` names, an empty page or no next page.
    async fn listing(
        &self,
        host: &str,
        path: &str,
        scope: String,
        what: &str,
        limit: usize,
        parse: impl Fn(&[u8]) -> serde_json::Result<Vec<String>>,
    ) -> Result<Vec<String>> {
        let limit = limit.min(MAX_LISTING);
        let mut out: Vec<String> = Vec::new();
        let mut target = format!("{path}?n={}", PAGE.min(limit.max(1)));
        // Every page that leads on brings at least one name: this bounds the loop.
        for _ in 0..=limit {
            if out.len() >= limit {
                break;
            }
            let call =
                Call::new(host, Method::GET, target.clone(), format!("GET {what}")).scope(scope.clone());
            let response = self.send(call).await?;
            if response.status() != StatusCode::OK {
                return Err(self.error_from(response, host, &format!("GET {what}")).await);
            }
            let next = response
                .headers()
                .get_all(header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link);
            let body = read_limited(response.into_body(), PAGE_LIMIT)
                .await
                .map_err(|cause| RegistryError::Transport {
                    registry: host.to_owned(),
                    what: format!("GET {what}"),
                    cause,
                })?;
            let names = parse(&body).map_err(|e| RegistryError::Api {
                registry: host.to_owned(),
                what: format!("GET {what}"),
                status: StatusCode::OK,
                detail: format!("the answer is not the listing JSON: {e}"),
            })?;
            let empty = names.is_empty();
            out.extend(names);
            let Some(next) = next else { break };
            if empty {
                break;
            }
            target = same_host_target(&next, host, self.scheme(host)).ok_or_else(|| RegistryError::Api {
                registry: host.to_owned(),
                what: format!("GET {what}"),
                status: StatusCode::OK,
                detail: format!("the next page's link {next:?} leaves the registry's /v2/ API"),
            })?;
        }
        out.truncate(limit);
        Ok(out)
    }
}

/// The URL of a `Link` header value whose `rel` is `next` (`</v2/_catalog?last=b&n=2>; rel="next"`).
fn next_link(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let part = part.trim();
        let (url, params) = part.strip_prefix('<')?.split_once('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|r| {
                    r.trim_matches('"')
                        .split(' ')
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
                .unwrap_or(false)
        });
        is_next.then(|| url.to_owned())
    })
}

/// The request target of a next-page link if it stays in the registry's `/v2/` API on `host`: a path, or
/// an absolute URL on the same scheme and host (made a path); otherwise `None`.
fn same_host_target(link: &str, host: &str, scheme: &str) -> Option<String> {
    let path = match link.strip_prefix(&format!("{scheme}://{host}")) {
        Some(rest) => rest,
        None if link.starts_with('/') && !link.starts_with("//") => link,
        None => return None,
    };
    (path.starts_with("/v2/") && !path.contains("..") && !path.chars().any(char::is_whitespace))
        .then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link(r#"</v2/x>; rel="prev""#), None);
        assert_eq!(
            next_link(r#"</a>; rel="prev", <http://h/v2/y>; rel=next"#).as_deref(),
            Some("http://h/v2/y")
        );
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn next_pages_stay_on_the_registry() {
        let t = |l: &str| same_host_target(l, "127.0.0.1:5000", "http");
        assert_eq!(t("/v2/_catalog?last=a").as_deref(), Some("/v2/_catalog?last=a"));
        assert_eq!(
            t("http://127.0.0.1:5000/v2/a/tags/list?last=1").as_deref(),
            Some("/v2/a/tags/list?last=1")
        );
        assert_eq!(t("http://evil.example/v2/_catalog"), None);
        assert_eq!(t("https://127.0.0.1:5000/v2/_catalog"), None);
        assert_eq!(t("http://127.0.0.1:5000.evil/v2/"), None);
        assert_eq!(t("//evil.example/v2/"), None);
        assert_eq!(t("/other"), None);
        assert_eq!(t("/v2/../admin"), None);
    }
}

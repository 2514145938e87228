//! Registry authentication against real registries (run `scripts/setup` first): 127.0.0.1:5001 (htpasswd
//! basic auth, credentials from a docker config directory) and 127.0.0.1:5002 (token auth; the token
//! service runs in this process, see `registry/token.rs`).

#[path = "registry/common.rs"]
mod common;
#[path = "registry/token.rs"]
mod token;

use common::*;
use serde_json::{json, Value};
use tug::registry::{Credentials, Image, Reference, Registry, RegistryError, RegistryOptions};

#[tokio::test]
async fn basic_auth_from_a_docker_config_dir() {
    let config = tempfile::tempdir().unwrap();
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", token::USER, token::PASSWORD))
    };
    std::fs::write(
        config.path().join("config.json"),
        json!({"auths": {"127.0.0.1:5001": {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let credentials = Credentials::from_docker_config_dir(config.path()).unwrap();
    assert!(!format!("{credentials:?}").contains(token::PASSWORD));
    let registry = Registry::new(RegistryOptions {
        credentials,
        ..Default::default()
    });
    // From the anonymous registry to the basic one: streamed, registry to registry.
    let image = Image::pull(&registry, &base(), None).await.unwrap();
    let dest = reference(&format!("127.0.0.1:5001/tug-test/basic-{}:t", unique("r")));
    let report = image.push(&registry, &dest).await.unwrap();
    assert_eq!(report.manifest_digest, image.manifest_digest());
    let layer_bytes: u64 = image.layers().iter().map(|l| l.size).sum();
    let stats = registry.stats();
    assert_eq!(
        stats.blob_bytes_downloaded - stats.config_bytes_downloaded,
        layer_bytes
    );
    assert_eq!(
        report.bytes_uploaded,
        layer_bytes + config_size(&registry, &base()).await
    );
    let back = Image::pull(&registry, &dest, None).await.unwrap();
    assert_eq!(back.manifest_digest(), report.manifest_digest);

    // No credentials: a 401 naming the registry.
    let err = Image::pull(&anonymous(), &dest, None).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{text}");
    assert!(
        text.contains("127.0.0.1:5001") && text.contains("401") && text.contains("no credentials"),
        "{text}"
    );
    // Wrong credentials: the same, saying credentials were used (and never what they are).
    let mut wrong = Credentials::none();
    wrong.insert("127.0.0.1:5001", "tug", "not-the-password");
    let err = Image::pull(
        &Registry::new(RegistryOptions {
            credentials: wrong,
            ..Default::default()
        }),
        &dest,
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("127.0.0.1:5001") && err.contains("with the configured credentials"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
}

/// The size of an unchanged image's config blob, from its manifest.
async fn config_size(registry: &Registry, r: &Reference) -> u64 {
    let (bytes, _, _) = registry.fetch_manifest(r).await.unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["config"]["size"].as_u64().unwrap()
}

#[tokio::test]
async fn bearer_tokens_pull_push_and_mount() {
    let serving_here = token::ensure();
    let mut credentials = Credentials::none();
    credentials.insert("127.0.0.1:5002", token::USER, token::PASSWORD);
    let registry = Registry::new(RegistryOptions {
        credentials,
        ..Default::default()
    });
    let issued_before = token::ISSUED.load(std::sync::atomic::Ordering::SeqCst);
    let image = Image::pull(&registry, &base(), None).await.unwrap();
    let first = reference(&format!("127.0.0.1:5002/tug-test/bearer-a-{}:t", unique("r")));
    let report = image.push(&registry, &first).await.unwrap();
    assert_eq!(report.manifest_digest, image.manifest_digest());
    assert!(report.blobs_uploaded >= 2, "{report:?}");
    // Lazily from the token registry to another repository there: mounted with a pull+push token for
    // the destination and a pull one for the source.
    let from_5002 = Image::pull(&registry, &first, None).await.unwrap();
    let second = reference(&format!("127.0.0.1:5002/tug-test/bearer-b-{}:t", unique("r")));
    let before = registry.stats();
    let report = from_5002.push(&registry, &second).await.unwrap();
    assert_eq!(report.bytes_uploaded, 0, "{report:?}");
    assert_eq!(
        report.blobs_mounted as usize,
        image.layers().len() + 1,
        "{report:?}"
    );
    assert_eq!(
        registry.stats().blob_bytes_downloaded,
        before.blob_bytes_downloaded
    );
    if serving_here {
        assert!(token::ISSUED.load(std::sync::atomic::Ordering::SeqCst) > issued_before);
    }

    // Anonymous: pull is granted, push is not.
    let anon = anonymous();
    let pulled = Image::pull(&anon, &second, None).await.unwrap();
    assert_eq!(pulled.manifest_digest(), report.manifest_digest);
    let third = reference(&format!("127.0.0.1:5002/tug-test/bearer-c-{}:t", unique("r")));
    let err = pulled.push(&anon, &third).await.unwrap_err().to_string();
    assert!(
        err.contains("127.0.0.1:5002") && err.contains("unauthorized"),
        "{err}"
    );
    // Wrong password: the token service refuses.
    let mut wrong = Credentials::none();
    wrong.insert("127.0.0.1:5002", token::USER, "nope");
    let err = Image::pull(
        &Registry::new(RegistryOptions {
            credentials: wrong,
            ..Default::default()
        }),
        &second,
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("127.0.0.1:5002") && err.contains("401") && !err.contains("nope"),
        "{err}"
    );
}

//! A docker token service for the registry on 127.0.0.1:5002 (`scripts/setup` configures it with realm
//! http://127.0.0.1:5003/token, service `tug-registry`, issuer `tug-token` and the certificate in
//! $TUG_DEV_DIR/token/). It runs on a thread of its own, once per test process, and issues ES256 JWTs
//! whose header carries the certificate (`x5c`), which distribution 2.8 verifies against its
//! rootcertbundle. `tug`/`tug-secret` gets every action it asks for; anonymous callers get `pull` only;
//! wrong credentials get 401.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use base64::Engine as _;
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivatePkcs8KeyDer};
use serde_json::json;

pub const USER: &str = "tug";
pub const PASSWORD: &str = "tug-secret";
const ADDR: &str = "127.0.0.1:5003";

/// Tokens this process issued so far.
pub static ISSUED: AtomicU64 = AtomicU64::new(0);

struct Signer {
    key: EcdsaKeyPair,
    cert_b64: String,
    rng: SystemRandom,
}

/// Starts the service (once); panics with a hint when setup has not run. Returns whether this process
/// serves the tokens (false when another test process already does, on the same port and key).
pub fn ensure() -> bool {
    static STARTED: OnceLock<bool> = OnceLock::new();
    *STARTED.get_or_init(|| {
        let dir = std::env::var("TUG_DEV_DIR").unwrap_or_else(|_| "/var/tmp/tug-dev".into());
        let key_pem = format!("{dir}/token/key.pem");
        let cert_pem = format!("{dir}/token/cert.pem");
        let key = PrivatePkcs8KeyDer::from_pem_file(&key_pem)
            .unwrap_or_else(|e| panic!("{key_pem}: {e} (run scripts/setup)"));
        let cert = CertificateDer::from_pem_file(&cert_pem).unwrap_or_else(|e| panic!("{cert_pem}: {e}"));
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.secret_pkcs8_der(), &rng)
            .expect("the token key is an EC P-256 PKCS#8 key");
        let signer = Signer {
            key,
            cert_b64: base64::engine::general_purpose::STANDARD.encode(cert.as_ref()),
            rng,
        };
        let listener = match TcpListener::bind(ADDR) {
            Ok(l) => l,
            // Another test process serves tokens signed with the same key: use it.
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return false,
            Err(e) => panic!("token service on {ADDR}: {e}"),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &signer);
            }
        });
        true
    })
}

fn serve(mut stream: TcpStream, signer: &Signer) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_owned());
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let (status, body) = answer(query, authorization.as_deref(), signer);
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes())
}

fn answer(query: &str, authorization: Option<&str>, signer: &Signer) -> (&'static str, String) {
    let account = match authorization {
        None => None,
        Some(a) => {
            let decoded = a
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((u, p)) if u == USER && p == PASSWORD => Some(u.to_owned()),
                _ => {
                    return (
                        "401 Unauthorized",
                        json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                            .to_string(),
                    )
                }
            }
        }
    };
    let mut service = String::new();
    let mut access = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "service" => service = v.into_owned(),
            "scope" => {
                for scope in v.split(' ') {
                    // repository:name:actions (the name may not contain ':' here)
                    let mut parts = scope.splitn(3, ':');
                    let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
                    else {
                        continue;
                    };
                    let actions: Vec<&str> = actions
                        .split(',')
                        .filter(|a| account.is_some() || *a == "pull")
                        .collect();
                    access.push(json!({"type": kind, "name": name, "actions": actions}));
                }
            }
            _ => {}
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let n = ISSUED.fetch_add(1, Ordering::SeqCst);
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [signer.cert_b64]});
    let claims = json!({
        "iss": "tug-token",
        "sub": account.clone().unwrap_or_default(),
        "aud": service,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("tug-{}-{n}", std::process::id()),
        "access": access,
    });
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = signer
        .key
        .sign(&signer.rng, signing_input.as_bytes())
        .expect("signing");
    let token = format!("{signing_input}.{}", b64(signature.as_ref()));
    ("200 OK", json!({"token": token, "expires_in": 300}).to_string())
}

//! TLS material made at test time with the `openssl` CLI (ECDSA P-256, valid for two days): a CA, a server
//! certificate it signs for the addresses a daemon listens on, a client certificate it signs, and a second,
//! unrelated CA with a client certificate of its own: the "wrong" client, which a daemon started with
//! `--tlsverify` refuses. The client sides are directories in the `DOCKER_CERT_PATH` layout.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::host::run;

/// The certificates of one TLS daemon; see the module documentation. Its files live in the directory
/// given to [`TlsCerts::generate`], which the caller removes.
#[derive(Clone, Debug)]
pub struct TlsCerts {
    dir: PathBuf,
}

impl TlsCerts {
    /// Makes every file under `dir` (created if needed): `ca/` (the CA), `server/` (`cert.pem`,
    /// `key.pem` with the subject alternative names `IP:` each of `ips` and `DNS:localhost`), `client/`
    /// and `wrong-client/` (each `ca.pem`, `cert.pem`, `key.pem`; both `ca.pem` are the daemon's CA, so
    /// the wrong client still trusts the daemon and is refused only for its own certificate).
    pub fn generate(dir: &Path, ips: &[&str]) -> Result<TlsCerts, String> {
        let certs = TlsCerts { dir: dir.to_owned() };
        let sans: Vec<String> = ips
            .iter()
            .map(|ip| format!("IP:{ip}"))
            .chain(["DNS:localhost".to_owned()])
            .collect();
        certs.ca("ca", "tug test CA")?;
        certs.ca("other-ca", "tug test unrelated CA")?;
        certs.leaf(
            "ca",
            "server",
            "localhost",
            &format!("extendedKeyUsage=serverAuth\nsubjectAltName={}", sans.join(",")),
        )?;
        certs.leaf("ca", "client", "tug-test-client", "extendedKeyUsage=clientAuth")?;
        certs.leaf(
            "other-ca",
            "wrong-client",
            "tug-test-client",
            "extendedKeyUsage=clientAuth",
        )?;
        for client in ["client", "wrong-client"] {
            let to = dir.join(client).join("ca.pem");
            std::fs::copy(certs.ca_cert(), &to)
                .map_err(|e| format!("copying the CA to {}: {e}", to.display()))?;
        }
        Ok(certs)
    }

    /// The CA that signed the server and the right client (dockerd's `--tlscacert`).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca").join("ca.pem")
    }

    /// The daemon's certificate (`--tlscert`).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server").join("cert.pem")
    }

    /// The daemon's key (`--tlskey`).
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server").join("key.pem")
    }

    /// The right client: a `DOCKER_CERT_PATH` directory (`ca.pem`, `cert.pem`, `key.pem`).
    pub fn client_dir(&self) -> PathBuf {
        self.dir.join("client")
    }

    /// The wrong client: a `DOCKER_CERT_PATH` directory whose certificate an unrelated CA signed.
    pub fn wrong_client_dir(&self) -> PathBuf {
        self.dir.join("wrong-client")
    }

    /// The docker CLI's TLS flags for a client directory:
    /// `--tlsverify --tlscacert DIR/ca.pem --tlscert DIR/cert.pem --tlskey DIR/key.pem`.
    pub fn cli_flags(client_dir: &Path) -> Vec<String> {
        let file = |name: &str| client_dir.join(name).display().to_string();
        vec![
            "--tlsverify".into(),
            "--tlscacert".into(),
            file("ca.pem"),
            "--tlscert".into(),
            file("cert.pem"),
            "--tlskey".into(),
            file("key.pem"),
        ]
    }

    fn key(&self, path: &Path) -> Result<(), String> {
        run(Command::new("openssl")
            .args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"])
            .arg(path))
        .map(drop)
        .map_err(|e| format!("making the TLS key {}: {e}", path.display()))
    }

    fn ca(&self, name: &str, subject: &str) -> Result<(), String> {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        self.key(&dir.join("key.pem"))?;
        run(Command::new("openssl")
            .args(["req", "-x509", "-new", "-days", "2", "-subj"])
            .arg(format!("/CN={subject}"))
            .args([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-key",
            ])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("ca.pem")))
        .map(drop)
        .map_err(|e| format!("making the TLS CA {name}: {e}"))
    }

    fn leaf(&self, ca: &str, name: &str, subject: &str, extensions: &str) -> Result<(), String> {
        let dir = self.dir.join(name);
        let ca = self.dir.join(ca);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        self.key(&dir.join("key.pem"))?;
        let ext = dir.join("extensions.cnf");
        std::fs::write(
            &ext,
            format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n{extensions}\n"
            ),
        )
        .map_err(|e| format!("writing {}: {e}", ext.display()))?;
        run(Command::new("openssl")
            .args(["req", "-new", "-subj"])
            .arg(format!("/CN={subject}"))
            .arg("-key")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("request.pem")))
        .map_err(|e| format!("making the TLS certificate request {name}: {e}"))?;
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-set_serial"])
            .arg(format!("0x{:x}", serial()))
            .arg("-in")
            .arg(dir.join("request.pem"))
            .arg("-CA")
            .arg(ca.join("ca.pem"))
            .arg("-CAkey")
            .arg(ca.join("key.pem"))
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(dir.join("cert.pem")))
        .map(drop)
        .map_err(|e| format!("signing the TLS certificate {name}: {e}"))
    }
}

/// A certificate serial number distinct from the others of this run.
fn serial() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    (now << 16) ^ u128::from(N.fetch_add(1, Ordering::Relaxed))
}

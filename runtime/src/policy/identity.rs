//! Who a run is: its id and the labels it stamps on what it creates.

use super::gate::RUN_LABEL;

/// A run's identity.
#[derive(Clone, Debug)]
pub struct RunIdentity {
    /// The run's id: 16 hex characters.
    pub run_id: String,
    /// The plugin's name.
    pub plugin: String,
    /// Whether what the run creates is kept after it ends.
    pub keep: bool,
}

impl RunIdentity {
    /// A fresh identity for a run of `plugin`.
    pub fn new(plugin: &str, keep: bool) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.write_u32(std::process::id());
        RunIdentity {
            run_id: format!("{:016x}", h.finish()),
            plugin: plugin.to_owned(),
            keep,
        }
    }

    /// The labels stamped on everything the run creates.
    pub fn labels(&self) -> Vec<(String, String)> {
        let mut labels = vec![
            (RUN_LABEL.to_owned(), self.run_id.clone()),
            ("tug.plugin".to_owned(), self.plugin.clone()),
        ];
        if self.keep {
            labels.push(("tug.keep".to_owned(), "1".to_owned()));
        }
        labels
    }
}

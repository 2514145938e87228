//! What a plugin may do: the policy file and its profiles, the operation table, canonical request bodies,
//! the gate (area access, ownership resolved to full ids, the rules of each body, ceilings, image names),
//! limits, cleanup and audit.

pub mod audit;
pub mod bodies;
pub mod canonical;
pub mod ceilings;
pub mod cleanup;
pub mod config;
pub mod denial;
pub mod dockerfile;
pub mod engines;
pub mod gate;
pub mod image_names;
pub mod leftovers;
pub mod limits;
pub mod operations;
pub mod ownership;
pub mod quota;
pub mod rules;
pub mod rules_images;
pub mod rules_networks;
pub mod rules_plugins;
pub mod rules_registry;
pub mod rules_swarm;
pub mod run_records;
pub mod subnets;
pub mod units;
pub mod volume_mounts;

pub use config::{Access, Area, Policy};
pub use denial::{Denial, GateError};
pub use gate::Gate;
pub use operations::Op;

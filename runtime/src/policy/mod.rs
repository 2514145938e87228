//! What a plugin may do: the policy file and its profiles, canonical request bodies, the rules of each
//! route, ownership of the objects a run creates, limits and audit.

pub mod audit;
pub mod canonical;
pub mod cleanup;
pub mod config;
pub mod denial;
pub mod gate;
pub mod limits;
pub mod operations;
pub mod rules;
pub mod rules_plugins;
pub mod rules_registry;
pub mod rules_swarm;
pub mod subnets;

pub use config::{Access, Area, Policy};
pub use denial::{Denial, GateError};
pub use gate::Gate;

//! A refusal, and the errors of the gate.

use crate::engine;

/// Why the policy refused a call: the rule, the field at fault, and a sentence a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// The rule, e.g. `containers.privileged`, `ownership`, `operations.build`.
    pub rule: String,
    /// The request field at fault (`HostConfig.Binds[0]`), query parameter or target.
    pub field: Option<String>,
    /// What was refused and what would be allowed.
    pub reason: String,
}

impl Denial {
    /// A denial naming a field.
    pub fn field(rule: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Denial {
            rule: rule.to_owned(),
            field: Some(field.into()),
            reason: reason.into(),
        }
    }

    /// A denial of the call as a whole.
    pub fn call(rule: &str, reason: impl Into<String>) -> Self {
        Denial {
            rule: rule.to_owned(),
            field: None,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "denied by {}", self.rule)?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What a gate check can end in besides approval.
#[derive(Debug)]
pub enum GateError {
    /// The policy refused.
    Denied(Denial),
    /// Looking something up in the engine failed (not found, transport…).
    Engine(engine::Error),
}

impl From<Denial> for GateError {
    fn from(d: Denial) -> Self {
        GateError::Denied(d)
    }
}

impl From<engine::Error> for GateError {
    fn from(e: engine::Error) -> Self {
        GateError::Engine(e)
    }
}

impl std::fmt::Display for GateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateError::Denied(d) => d.fmt(f),
            GateError::Engine(e) => e.fmt(f),
        }
    }
}

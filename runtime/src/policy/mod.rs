//! What a plugin may do: canonical request bodies, rules, ownership, limits and audit.

pub mod canonical;

//! A wrapper for secrets: its `Debug` and `Display` never show the value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret value (an access key, a token). Printing it shows `********`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(T);

/// What a redacted value prints as.
pub const MASK: &str = "********";

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for handing to an SDK. Never log what this returns.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        T::deserialize(d).map(Self)
    }
}

/// Serializes as the mask, so a secret cannot leak through JSON output either.
impl<T> Serialize for Redacted<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let r = Redacted::new("AKIASECRET".to_owned());
        assert_eq!(format!("{r} {r:?}"), "******** ********");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"********\"");
        assert_eq!(r.expose(), "AKIASECRET");
    }
}

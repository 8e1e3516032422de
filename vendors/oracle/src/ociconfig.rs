//! The OCI CLI/SDK configuration file (`~/.oci/config`): INI sections named after profiles,
//! each inheriting the keys of `[DEFAULT]`; an API-key profile holds `user`, `fingerprint`,
//! `key_file`, `tenancy`, `region` and, for an encrypted key, `pass_phrase`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One profile, resolved (its keys over `[DEFAULT]`'s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Profile {
    /// Its name.
    pub(crate) name: String,
    /// The file it is in.
    pub(crate) file: PathBuf,
    keys: BTreeMap<String, String>,
}

impl Profile {
    /// A key's value, if set and not empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A key the profile must have, or the error naming the profile and the file.
    pub(crate) fn require(&self, key: &str) -> finops_core::Result<&str> {
        self.get(key)
            .ok_or_else(|| finops_core::Error::ConfigInvalid {
                message: format!(
                    "profile [{}] of {} has no `{key}`: an API-key profile needs user, fingerprint, key_file, tenancy and region (`oci setup config` writes them)",
                    self.name,
                    self.file.display()
                ),
            })
    }

    /// `key_file`, with `~` expanded.
    pub(crate) fn key_file(&self) -> finops_core::Result<PathBuf> {
        Ok(expand_home(self.require("key_file")?))
    }
}

/// The default file: `$OCI_CLI_CONFIG_FILE`, else `~/.oci/config`.
pub(crate) fn default_file() -> PathBuf {
    finops_core::env::var("OCI_CLI_CONFIG_FILE")
        .map_or_else(|| expand_home("~/.oci/config"), |f| expand_home(&f))
}

/// The default profile: `$OCI_CLI_PROFILE`, else `DEFAULT`.
pub(crate) fn default_profile() -> String {
    finops_core::env::var("OCI_CLI_PROFILE").unwrap_or_else(|| "DEFAULT".into())
}

/// `~/…` under the home directory.
fn expand_home(p: &str) -> PathBuf {
    match (
        p.strip_prefix("~/"),
        finops_core::env::var(finops_core::env::HOME),
    ) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// Reads `profile` from `file`.
pub(crate) fn load(file: &Path, profile: &str) -> finops_core::Result<Profile> {
    let text = std::fs::read_to_string(file).map_err(|e| finops_core::Error::ConfigInvalid {
        message: format!(
            "cannot read the OCI configuration file {} ({e}): reading Object Storage needs an API-key profile there (`oci setup config`, or Identity > Users > API keys > Add API key, which shows the profile to paste), or oracle.config_file, or a customer secret key (oracle.access_key_id), or a local copy (--path)",
            file.display()
        ),
    })?;
    parse(&text, file, profile)
}

/// `profile` of the file `text` (named `file`).
fn parse(text: &str, file: &Path, profile: &str) -> finops_core::Result<Profile> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let Some(own) = sections.get(profile) else {
        let names: Vec<String> = sections.keys().cloned().collect();
        return Err(finops_core::Error::ConfigInvalid {
            message: format!(
                "{} has no profile [{profile}]{}: choose one with --profile (oracle.profile)",
                file.display(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (it has {})", finops_core::error::found_list(&names))
                }
            ),
        });
    };
    let mut keys = sections.get("DEFAULT").cloned().unwrap_or_default();
    keys.extend(own.clone());
    Ok(Profile {
        name: profile.to_owned(),
        file: file.to_owned(),
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# made by oci setup config
[DEFAULT]
user=ocid1.user.oc1..default
fingerprint = aa:bb
key_file=~/.oci/key.pem
tenancy=ocid1.tenancy.oc1..t
region=us-ashburn-1

[ADMIN]
user=ocid1.user.oc1..admin
; a comment
Region=eu-frankfurt-1
pass_phrase=
";

    #[test]
    fn profiles_inherit_default() {
        let f = Path::new("/h/.oci/config");
        let p = parse(FILE, f, "ADMIN").unwrap();
        assert_eq!(p.get("user"), Some("ocid1.user.oc1..admin"));
        assert_eq!(p.get("region"), Some("eu-frankfurt-1"));
        assert_eq!(p.get("fingerprint"), Some("aa:bb"));
        assert_eq!(p.get("pass_phrase"), None);
        let d = parse(FILE, f, "DEFAULT").unwrap();
        assert_eq!(d.get("user"), Some("ocid1.user.oc1..default"));
        let e = parse(FILE, f, "NOPE").unwrap_err().to_string();
        assert!(e.contains("no profile [NOPE]"), "{e}");
        let e = format!("{:?}", parse(FILE, f, "NOPE").unwrap_err());
        assert!(e.contains("ADMIN") && e.contains("DEFAULT"), "{e}");
        let e = format!("{:?}", d.require("security_token_file").unwrap_err());
        assert!(
            e.contains("[DEFAULT] of /h/.oci/config has no `security_token_file`"),
            "{e}"
        );
    }
}

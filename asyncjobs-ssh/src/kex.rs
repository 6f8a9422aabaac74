//! Key exchange preferences: OpenSSH algorithm names, checked against what
//! russh implements, turned into the list the client offers.

use russh::kex;

/// The key exchange algorithms that can be offered, by their OpenSSH names.
const SUPPORTED: &[kex::Name] = &[
    kex::MLKEM768X25519_SHA256,
    kex::CURVE25519,
    kex::CURVE25519_PRE_RFC_8731,
    kex::ECDH_SHA2_NISTP256,
    kex::ECDH_SHA2_NISTP384,
    kex::ECDH_SHA2_NISTP521,
    kex::DH_GEX_SHA256,
    kex::DH_G18_SHA512,
    kex::DH_G17_SHA512,
    kex::DH_G16_SHA512,
    kex::DH_G15_SHA512,
    kex::DH_G14_SHA256,
    kex::DH_G14_SHA1,
    kex::DH_GEX_SHA1,
    kex::DH_G1_SHA1,
];

/// Pseudo-algorithms always offered after the chosen ones: extension
/// negotiation (RFC 8308) and OpenSSH's strict key exchange (the Terrapin fix).
const EXTENSIONS: &[kex::Name] = &[
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

/// A key exchange preference list that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KexError {
    /// A name that is not a key exchange algorithm this crate implements.
    #[error(
        "unsupported key exchange algorithm `{name}` (supported: {})",
        supported_kex_algorithms().join(", ")
    )]
    Unsupported {
        /// The name as given.
        name: String,
    },
    /// The list names no algorithm at all.
    #[error("empty list of key exchange algorithms")]
    Empty,
}

/// Every key exchange algorithm that can be named in
/// [`SshNodeBuilder::kex_algorithms`](crate::SshNodeBuilder::kex_algorithms),
/// by its OpenSSH name, safest first.
pub fn supported_kex_algorithms() -> Vec<&'static str> {
    SUPPORTED.iter().map(|n| n.as_ref()).collect()
}

/// The key exchange algorithms offered by default, in order:
/// `mlkem768x25519-sha256`, then `curve25519-sha256`, ...
pub fn default_kex_algorithms() -> Vec<&'static str> {
    russh::Preferred::DEFAULT
        .kex
        .iter()
        .filter(|n| !is_extension(n))
        .map(|n| n.as_ref())
        .collect()
}

fn is_extension(name: &kex::Name) -> bool {
    [
        kex::EXTENSION_SUPPORT_AS_CLIENT,
        kex::EXTENSION_SUPPORT_AS_SERVER,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
    ]
    .contains(name)
}

/// Checks a preference list (OpenSSH names, most preferred first), as
/// connecting would: every name must be supported and the list not empty.
pub fn check_kex_algorithms<S: AsRef<str>>(names: &[S]) -> Result<(), KexError> {
    preferred(names).map(drop)
}

/// What the client offers for `names`: those algorithms in that order (without
/// repeats), then the extension pseudo-algorithms.
pub(crate) fn preferred<S: AsRef<str>>(names: &[S]) -> Result<Vec<kex::Name>, KexError> {
    let mut list: Vec<kex::Name> = Vec::with_capacity(names.len() + EXTENSIONS.len());
    for name in names {
        let name = name.as_ref().trim();
        let found = SUPPORTED
            .iter()
            .find(|n| n.as_ref() == name)
            .ok_or_else(|| KexError::Unsupported {
                name: name.to_string(),
            })?;
        if !list.contains(found) {
            list.push(*found);
        }
    }
    if list.is_empty() {
        return Err(KexError::Empty);
    }
    list.extend_from_slice(EXTENSIONS);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_in_order_without_repeats_then_extensions() {
        let list = preferred(&[
            "ecdh-sha2-nistp256",
            "curve25519-sha256",
            "ecdh-sha2-nistp256",
        ])
        .unwrap();
        let names: Vec<&str> = list.iter().map(|n| n.as_ref()).collect();
        assert_eq!(
            names,
            [
                "ecdh-sha2-nistp256",
                "curve25519-sha256",
                "ext-info-c",
                "kex-strict-c-v00@openssh.com"
            ]
        );
    }

    #[test]
    fn unknown_names_and_empty_lists_are_refused() {
        let e =
            preferred(&["curve25519-sha256", "sntrup761x25519-sha512@openssh.com"]).unwrap_err();
        assert_eq!(
            e,
            KexError::Unsupported {
                name: "sntrup761x25519-sha512@openssh.com".into()
            }
        );
        let text = e.to_string();
        assert!(
            text.starts_with(
                "unsupported key exchange algorithm `sntrup761x25519-sha512@openssh.com` (supported: "
            ) && text.contains("ecdh-sha2-nistp256"),
            "{text}"
        );
        // pseudo-algorithms are not key exchanges of their own
        assert!(check_kex_algorithms(&["ext-info-c"]).is_err());
        assert!(check_kex_algorithms(&["none"]).is_err());
        assert_eq!(check_kex_algorithms::<&str>(&[]), Err(KexError::Empty));
    }

    #[test]
    fn defaults_are_supported_and_start_with_the_x25519_family() {
        let defaults = default_kex_algorithms();
        assert!(check_kex_algorithms(&defaults).is_ok());
        assert_eq!(
            &defaults[..2],
            ["mlkem768x25519-sha256", "curve25519-sha256"]
        );
        assert!(!defaults.contains(&"ecdh-sha2-nistp256"));
    }
}

//! Why a database or Redis cannot be used now, as every connection of
//! this crate reports it: start-up stops for one and waits for the other.

/// Why a dependency cannot be used now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Cannot work as configured; waiting would not help.
    Unusable(String),
    /// Down or out of reach for now.
    Unreachable(String),
}

/// `why` a TLS connection failed, with what to do about it when the
/// failure is a common one; `trust` says how a CA is given for this
/// dependency.
pub(crate) fn with_tls_hint(why: String, trust: &str) -> String {
    let hint = if why.contains("UnknownIssuer") {
        format!("the certificate's issuer is not trusted: give its CA with {trust}")
    } else if why.contains("NotValidForName") || why.contains("not valid for name") {
        "the certificate does not name this host: connect by a name it holds".to_owned()
    } else if why.contains("Expired") {
        "the server's certificate has expired".to_owned()
    } else {
        return why;
    };
    format!("{why} ({hint})")
}

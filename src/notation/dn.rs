//! Distinguished names as Notation reads them: an RFC 4514 string for `x509.subject:`
//! identities, and a certificate subject reduced to the same shape, so that matching is a
//! comparison of (type, value) pairs rather than of renderings.

use std::fmt;

/// One DN as an ordered list of single-valued attributes; types are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    attrs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    #[error("distinguished name (DN) {dn:?} is not valid: incomplete type, value pair")]
    Incomplete { dn: String },
    #[error("distinguished name (DN) {dn:?} has a bad escape sequence")]
    BadEscape { dn: String },
    #[error("distinguished name (DN) {dn:?} has a hex-encoded value (\"=#\"), which Notation does not support")]
    HexValue { dn: String },
    #[error("distinguished name (DN) {dn:?} has multi-valued RDN attributes, which are not supported")]
    MultiValued { dn: String },
    #[error("distinguished name (DN) {dn:?} has duplicate RDN attribute for {attr:?}")]
    Duplicate { dn: String, attr: String },
    #[error(
        "distinguished name (DN) {dn:?} has no mandatory RDN attribute for {attr:?}; it must contain C, ST (or S) and O"
    )]
    MissingMandatory { dn: String, attr: String },
    #[error("certificate subject has attribute {oid}, which Notation cannot match")]
    UnsupportedSubjectAttribute { oid: String },
    #[error("certificate subject is not readable: {detail}")]
    BadSubject { detail: String },
}

/// Attributes Notation requires in every `x509.subject` identity, so that an identity
/// cannot accidentally trust a whole CA's population.
pub const MANDATORY: [&str; 3] = ["C", "ST", "O"];

impl Dn {
    /// Parses like go-ldap's ParseDN plus Notation's restrictions: spaces around types and
    /// values are not significant, `\` escapes a special character or two hex digits,
    /// `S` is an alias of `ST`, and `+` (multi-valued RDNs), repeated types and `#` values
    /// are refused because Notation refuses them.
    pub fn parse(input: &str) -> Result<Dn, DnError> {
        let dn = || input.to_string();
        // Notation refuses the raw text "=#" wherever it appears, escaped or not.
        if input.contains("=#") {
            return Err(DnError::HexValue { dn: dn() });
        }
        let mut attrs: Vec<(String, String)> = Vec::new();
        let mut chars = input.chars().peekable();
        loop {
            let mut ty = String::new();
            let mut saw_eq = false;
            for c in chars.by_ref() {
                if c == '=' {
                    saw_eq = true;
                    break;
                }
                if matches!(c, ',' | ';' | '+') {
                    break;
                }
                ty.push(c);
            }
            let ty = ty.trim().to_string();
            if !saw_eq || ty.is_empty() {
                return Err(DnError::Incomplete { dn: dn() });
            }
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
            if chars.peek() == Some(&'#') {
                return Err(DnError::HexValue { dn: dn() });
            }
            let mut bytes: Vec<u8> = Vec::new();
            // Trailing spaces are dropped only up to the last escaped byte: `\ ` is kept.
            let mut keep = 0usize;
            let mut end = None;
            while let Some(c) = chars.next() {
                match c {
                    ',' | ';' | '+' => {
                        end = Some(c);
                        break;
                    }
                    '\\' => {
                        let e = chars.next().ok_or_else(|| DnError::BadEscape { dn: dn() })?;
                        if e.is_ascii_hexdigit() {
                            let lo = chars.next().filter(char::is_ascii_hexdigit);
                            let lo = lo.ok_or_else(|| DnError::BadEscape { dn: dn() })?;
                            let hex = format!("{e}{lo}");
                            bytes.push(u8::from_str_radix(&hex, 16).map_err(|_| DnError::BadEscape { dn: dn() })?);
                        } else if "\\ \",+;<>=#".contains(e) {
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                        } else {
                            return Err(DnError::BadEscape { dn: dn() });
                        }
                        keep = bytes.len();
                    }
                    _ => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            while bytes.len() > keep && bytes.last() == Some(&b' ') {
                bytes.pop();
            }
            let value = String::from_utf8(bytes).map_err(|_| DnError::BadEscape { dn: dn() })?;
            if end == Some('+') {
                return Err(DnError::MultiValued { dn: dn() });
            }
            let ty = if ty == "S" { "ST".to_string() } else { ty };
            if attrs.iter().any(|(t, _)| *t == ty) {
                return Err(DnError::Duplicate { dn: dn(), attr: ty });
            }
            attrs.push((ty, value));
            if end.is_none() {
                break;
            }
        }
        Ok(Dn { attrs })
    }

    /// An identity must name C, ST and O (checked apart from parsing because certificate
    /// subjects need not).
    pub fn require_mandatory(&self, original: &str) -> Result<(), DnError> {
        for m in MANDATORY {
            if self.get(m).is_none() {
                return Err(DnError::MissingMandatory { dn: original.to_string(), attr: m.to_string() });
            }
        }
        Ok(())
    }

    /// A certificate subject as Notation sees it: Go renders the subject with short names
    /// and re-parses it, so an attribute without a short name becomes `=#…` and a type that
    /// repeats becomes a multi-valued RDN; both make the certificate unmatchable there, and
    /// here they are errors for the same reason.
    pub fn from_certificate(der: &[u8]) -> Result<Dn, DnError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| DnError::BadSubject { detail: e.to_string() })?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        for rdn in cert.subject().iter() {
            for atv in rdn.iter() {
                let oid = atv.attr_type().to_id_string();
                let ty = short_name(&oid).ok_or_else(|| DnError::UnsupportedSubjectAttribute { oid: oid.clone() })?;
                let value = atv.as_str().map_err(|e| DnError::BadSubject { detail: format!("{ty}: {e}") })?.to_string();
                if attrs.iter().any(|(t, _)| t == ty) {
                    return Err(DnError::MultiValued { dn: cert.subject().to_string() });
                }
                attrs.push((ty.to_string(), value));
            }
        }
        Ok(Dn { attrs })
    }

    pub fn get(&self, ty: &str) -> Option<&str> {
        self.attrs.iter().find(|(t, _)| t == ty).map(|(_, v)| v.as_str())
    }

    pub fn attributes(&self) -> &[(String, String)] {
        &self.attrs
    }

    /// Whether every attribute of `self` is present with the same value in `other`.
    pub fn is_subset_of(&self, other: &Dn) -> bool {
        self.attrs.iter().all(|(t, v)| other.get(t) == Some(v.as_str()))
    }
}

/// Whether a trusted identity admits a certificate subject: every attribute the identity
/// names must be present in the subject with an equal value (exact, case-sensitive).
pub fn matches(identity: &Dn, subject: &Dn) -> bool {
    identity.is_subset_of(subject)
}

/// The names Go's `pkix.Name.String()` knows; any other attribute is rendered as hex.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.17" => "POSTALCODE",
        "2.5.4.9" => "STREET",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.6" => "C",
        "2.5.4.5" => "SERIALNUMBER",
        _ => return None,
    })
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (t, v)) in self.attrs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}=")?;
            for (j, c) in v.chars().enumerate() {
                let edge = (j == 0 || j + 1 == v.chars().count()) && c == ' ';
                if edge || "\\\",+;<>=".contains(c) || (j == 0 && c == '#') {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(dn: &str) -> Vec<(String, String)> {
        Dn::parse(dn).unwrap().attrs
    }

    #[test]
    fn spaces_around_separators_are_not_significant() {
        let a = attrs(" C=US, ST=WA , O=acme");
        assert_eq!(a, vec![("C".into(), "US".into()), ("ST".into(), "WA".into()), ("O".into(), "acme".into())]);
    }

    #[test]
    fn escapes_and_inner_spaces_survive() {
        let d = Dn::parse(r#"C=US,ST=WA,O=My "special" Org \, \; \\ others"#).unwrap();
        assert_eq!(d.get("O"), Some(r#"My "special" Org , ; \ others"#));
        assert_eq!(Dn::parse("C=US,ST=WA,O=  My.  Org").unwrap().get("O"), Some("My.  Org"));
        assert_eq!(Dn::parse(r"C=US,ST=WA,O=x\ ").unwrap().get("O"), Some("x "));
        assert_eq!(Dn::parse(r"C=US,ST=WA,O=\4a\4B").unwrap().get("O"), Some("JK"));
    }

    #[test]
    fn s_is_an_alias_of_st() {
        assert_eq!(Dn::parse("C=US,S=WA,O=x").unwrap().get("ST"), Some("WA"));
    }

    #[test]
    fn refusals() {
        assert!(matches!(Dn::parse(",,,"), Err(DnError::Incomplete { .. })));
        assert!(matches!(Dn::parse("C=US,"), Err(DnError::Incomplete { .. })));
        assert!(matches!(Dn::parse("C=US+ST=WA,O=x"), Err(DnError::MultiValued { .. })));
        assert!(matches!(Dn::parse("C=US,C=IN"), Err(DnError::Duplicate { .. })));
        assert!(matches!(Dn::parse("C=#0101,ST=WA,O=x"), Err(DnError::HexValue { .. })));
        assert!(matches!(Dn::parse("C= #0101,ST=WA,O=x"), Err(DnError::HexValue { .. })));
        assert!(matches!(Dn::parse(r"C=US,ST=WA,O=a\=#b"), Err(DnError::HexValue { .. })));
        assert!(matches!(Dn::parse(r"C=US\q"), Err(DnError::BadEscape { .. })));
        let d = Dn::parse("C=US,ST=WA").unwrap();
        assert!(
            matches!(d.require_mandatory("C=US,ST=WA"), Err(DnError::MissingMandatory { attr, .. }) if attr == "O")
        );
    }

    #[test]
    fn matching_is_subset_with_equal_values() {
        let subject = Dn::parse("CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US").unwrap();
        assert!(matches(&Dn::parse("C=US,ST=WA,O=Notary").unwrap(), &subject));
        assert!(matches(&Dn::parse("O=Notary,C=US,ST=WA,CN=Notation Test Root").unwrap(), &subject));
        assert!(!matches(&Dn::parse("C=US,ST=WA,O=notary").unwrap(), &subject));
        assert!(!matches(&Dn::parse("C=US,ST=WA,O=Notary,OU=x").unwrap(), &subject));
        assert!(!matches(&Dn::parse("CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN").unwrap(), &subject));
    }

    #[test]
    fn display_round_trips() {
        let s = r"C=US,ST=WA,O=a\,b\ ";
        let d = Dn::parse(s).unwrap();
        assert_eq!(Dn::parse(&d.to_string()).unwrap(), d);
    }
}

//! Certificate chains shown as a table. Display only: nothing here decides trust.

use sha2::{Digest as _, Sha256};

use super::{Section, Table};

pub const HEADERS: [&str; 5] = ["subject", "issuer", "not before", "not after", "SHA-256 fingerprint"];

fn time(t: x509_parser::time::ASN1Time) -> String {
    chrono::DateTime::from_timestamp(t.timestamp(), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// One row per certificate, in envelope order (leaf first). A certificate that does not parse
/// still gets a row, with its fingerprint, so the chain's length and order stay visible.
pub fn chain_table(ders: &[Vec<u8>]) -> Table {
    let rows = ders
        .iter()
        .map(|der| {
            let fp = hex::encode(Sha256::digest(der));
            match x509_parser::parse_x509_certificate(der) {
                Ok((_, c)) => vec![
                    c.subject().to_string(),
                    c.issuer().to_string(),
                    time(c.validity().not_before),
                    time(c.validity().not_after),
                    fp,
                ],
                Err(e) => {
                    vec![format!("unparseable certificate: {e}"), String::new(), String::new(), String::new(), fp]
                }
            }
        })
        .collect();
    Table { headers: HEADERS.iter().map(|h| h.to_string()).collect(), rows }
}

pub fn chain_section(title: &str, ders: &[Vec<u8>]) -> Section {
    let mut s = Section::new(title).field("certificates", ders.len().to_string());
    s.table = Some(chain_table(ders));
    s
}

/// DER certificates of every `CERTIFICATE` block in PEM text (cosign's certificate and chain
/// annotations).
pub fn pem_certs(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        let pem = pem.map_err(|e| format!("PEM: {e}"))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        return Err("no CERTIFICATE block".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_certificates_become_rows() {
        let t = chain_table(&[vec![0x30, 0x03, 1, 2], vec![]]);
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows[0][0].starts_with("unparseable"));
        assert!(pem_certs("not pem").is_err());
        assert!(pem_certs("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
    }
}

//! Just enough X.509 to tell whether a gateway's TLS secret holds a certificate that
//! parses and has not expired: PEM to DER, then the validity's `notAfter`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;

/// Check a TLS secret: `tls.crt` and `tls.key` present, the certificate parses, and
/// it is not expired at `now`. The error says what is wrong.
pub fn check_tls_secret(secret: &Secret, now: SystemTime) -> Result<(), String> {
    let data = secret.data.clone().unwrap_or_default();
    let string_data = secret.string_data.clone().unwrap_or_default();
    let get = |k: &str| -> Option<Vec<u8>> {
        data.get(k)
            .map(|b| b.0.clone())
            .or_else(|| string_data.get(k).map(|s| s.clone().into_bytes()))
    };
    let (Some(crt), Some(_key)) = (get("tls.crt"), get("tls.key")) else {
        return Err("the secret needs tls.crt and tls.key".into());
    };
    let der = pem_to_der(&crt).ok_or("tls.crt is not a PEM certificate")?;
    let not_after = not_after(&der).ok_or("tls.crt does not parse as an X.509 certificate")?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if not_after < now {
        return Err("the certificate has expired".into());
    }
    Ok(())
}

fn pem_to_der(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = text[start..].find("-----END CERTIFICATE-----")? + start;
    let body: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// One DER element: tag, contents, and the rest of the input.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `notAfter` of a DER certificate, in seconds since the epoch.
fn not_after(der: &[u8]) -> Option<i64> {
    let (0x30, cert, _) = element(der)? else {
        return None;
    };
    let (0x30, tbs, _) = element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, r) = element(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    let (_, _, r) = element(rest)?; // serial
    let (_, _, r) = element(r)?; // signature algorithm
    let (_, _, r) = element(r)?; // issuer
    let (0x30, validity, _) = element(r)? else {
        return None;
    };
    let (_, _, v) = element(validity)?; // notBefore
    let (tag, t, _) = element(v)?;
    parse_time(tag, std::str::from_utf8(t).ok()?)
}

/// UTCTime (`YYMMDDhhmmssZ`) or GeneralizedTime (`YYYYMMDDhhmmssZ`).
fn parse_time(tag: u8, s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let num = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, h, m, sec) = (num(0)?, num(2)?, num(4)?, num(6)?, num(8)?);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_time(0x17, "000101000000Z"), Some(946_684_800));
        assert_eq!(parse_time(0x18, "20000101000000Z"), Some(946_684_800));
    }
}

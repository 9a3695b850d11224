//! A small multipart/form-data reader (RFC 7578) for the signing form: named text fields and one
//! file. It never panics on malformed input; it answers `None` and the form is shown again.

pub struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub data: &'a [u8],
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary").then(|| v.trim_matches('"').to_string())
    })
}

fn param(disposition: &str, name: &str) -> Option<String> {
    disposition.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
    })
}

pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut pos = find(body, delim.as_bytes(), 0)? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2)? == b"--" {
            return Some(parts);
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(body.get(pos..head_end)?).ok()?;
        let disposition = head
            .split("\r\n")
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition")))?
            .1;
        let data_start = head_end + 4;
        let data_end = find(body, next_delim.as_bytes(), data_start)?;
        parts.push(Part {
            name: param(disposition, "name")?,
            filename: param(disposition, "filename"),
            data: &body[data_start..data_end],
        });
        pos = data_end + next_delim.len();
        if parts.len() > 32 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_a_file() {
        let b = "XyZ";
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"pin\"\r\n\r\n123456\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h\xe1\xbb\x93 s\xc6\xa1.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n\r\n--XyZ--\r\n";
        let parts = parse(body, b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].data), ("pin", &b"123456"[..]));
        assert_eq!(parts[1].filename.as_deref(), Some("hồ sơ.pdf"));
        assert_eq!(parts[1].data, b"%PDF-1.7\r\n");
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Some("XyZ"));
        assert!(boundary("application/json").is_none());
    }

    #[test]
    fn malformed_bodies_give_none() {
        for body in [&b""[..], b"--XyZ", b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx", b"--XyZ\r\n\r\n\r\n"] {
            assert!(parse(body, "XyZ").is_none());
        }
    }
}

//! QR codes as inline SVG: the authenticator enrolment (`otp.rs`) and the support points'
//! guidance posters (`guide.rs`).

use std::fmt::Write as _;

/// `text` as a QR code (medium error correction, 4-module quiet zone), as inline SVG.
pub fn qr_svg(text: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let (n, quiet) = (qr.size(), 4);
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                let _ = write!(path, "M{} {}h1v1h-1z", x + quiet, y + quiet);
            }
        }
    }
    let dim = n + 2 * quiet;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" width=\"240\" height=\"240\" \
shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR\"><rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/>\
<path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_of_the_right_size() {
        let uri =
            "otpauth://totp/kyso:0191****0001?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=kyso&digits=6&period=30";
        let svg = qr_svg(uri).unwrap();
        // 103 bytes at level M need version 6 (85 to 106): 41 modules, 49 with the quiet zone.
        assert_eq!(uri.len(), 103);
        assert!(svg.contains("viewBox=\"0 0 49 49\""), "{}", &svg[..120]);
        // A poster address of 33 bytes needs version 3 (27 to 42 at M): 29 modules, 37 with the quiet zone.
        assert!(qr_svg("http://127.0.0.1:8080/g/hl-motcua").unwrap().contains("viewBox=\"0 0 37 37\""));
    }
}

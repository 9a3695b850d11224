//! Multipart bodies from anyone who can post a form (the /me/sign upload): the reader (content
//! type, boundary, axum's multipart parser, the limits) must never panic, and what it accepts stays
//! within the limits. The first byte picks the boundary's length, the rest is the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use kyso_server::web::MultipartLimits;

const LIMITS: MultipartLimits = MultipartLimits { max_fields: 4, max_text: 64, max_file: 4096, file_field: "file" };

fuzz_target!(|data: &[u8]| {
    let Some((&n, body)) = data.split_first() else { return };
    let boundary: String = "kysoboundary0123456789".chars().cycle().take(usize::from(n % 100) + 1).collect();
    let ct = format!("multipart/form-data; boundary={boundary}");
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    if let Ok(form) = rt.block_on(kyso_server::web::read_multipart_body(&ct, body.to_vec(), LIMITS)) {
        assert!(boundary.len() <= 70, "a {}-character boundary accepted", boundary.len());
        assert!(form.fields.len() + usize::from(form.file.is_some()) <= LIMITS.max_fields);
        assert!(form.fields.iter().all(|(_, v)| v.len() <= LIMITS.max_text));
        assert!(form.file.as_ref().is_none_or(|f| f.data.len() <= LIMITS.max_file));
    }
});

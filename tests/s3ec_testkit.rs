//! Golden files for S3EC format errors: one file per malformed S3EC envelope under
//! `tests/testkit-s3ec/`, each with the exact error it must produce.
//!
//! A file is `expect: <error>`, `policy: <AWS commitment policy>`, `form: metadata|instruction`, a
//! `---` line, then one `name: value` line per object-metadata pair and, for the instruction form,
//! a blank line and the instruction file's body. `S3CRYPT_WRITE_TESTKIT=1 cargo test --test
//! s3ec_testkit` regenerates the files from the cases below (built from AWS-written vectors).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use s3crypt::{CommitmentPolicy, S3ecEnvelope, S3ecOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testkit-s3ec")
}

fn vector(name: &str) -> (BTreeMap<String, String>, Option<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/s3ec/vectors/{name}.json"));
    let desc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let meta = desc["metadata"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    (meta, desc["instruction"].as_str().map(str::to_owned))
}

fn policy(name: &str) -> CommitmentPolicy {
    [
        CommitmentPolicy::ForbidEncryptAllowDecrypt,
        CommitmentPolicy::RequireEncryptAllowDecrypt,
        CommitmentPolicy::RequireEncryptRequireDecrypt,
    ]
    .into_iter()
    .find(|p| p.aws_name() == name)
    .unwrap()
}

struct Case {
    name: &'static str,
    policy: CommitmentPolicy,
    metadata: Vec<(String, String)>,
    instruction: Option<String>,
}

fn cases() -> Vec<Case> {
    let (v2, _) = vector("v2-kms-17-ascii");
    let (v3, _) = vector("v3-aes-17-ascii");
    let (v3i_meta, v3i_file) = vector("v3-kms-17-ascii-instr");
    let allow = CommitmentPolicy::RequireEncryptAllowDecrypt;
    let meta = |base: &BTreeMap<String, String>, f: &dyn Fn(&mut BTreeMap<String, String>)| {
        let mut m = base.clone();
        f(&mut m);
        m.into_iter().collect::<Vec<_>>()
    };
    let set = |k: &'static str, v: &'static str| {
        move |m: &mut BTreeMap<String, String>| drop(m.insert(k.into(), v.into()))
    };
    let del = |k: &'static str| move |m: &mut BTreeMap<String, String>| drop(m.remove(k));
    let mut out = vec![
        Case {
            name: "v2-v3-content-key-injected",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-c", "115")),
            instruction: None,
        },
        Case {
            name: "v3-v2-iv-injected",
            policy: allow,
            metadata: meta(&v3, &set("x-amz-iv", "AQEBAQEBAQEBAQEB")),
            instruction: None,
        },
        Case {
            name: "v2-zero-iv",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-iv", "AAAAAAAAAAAAAAAA")),
            instruction: None,
        },
        Case {
            name: "v2-iv-16-bytes",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-iv", "AQEBAQEBAQEBAQEBAQEBAQ==")),
            instruction: None,
        },
        Case {
            name: "v2-iv-missing",
            policy: allow,
            metadata: meta(&v2, &del("x-amz-iv")),
            instruction: None,
        },
        Case {
            name: "v2-tag-len-96",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-tag-len", "96")),
            instruction: None,
        },
        Case {
            name: "v2-cek-cbc",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-cek-alg", "AES/CBC/PKCS5Padding")),
            instruction: None,
        },
        Case {
            name: "v2-cek-missing",
            policy: allow,
            metadata: meta(&v2, &del("x-amz-cek-alg")),
            instruction: None,
        },
        Case {
            name: "v2-cek-unknown",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-cek-alg", "AES/CTR/NoPadding")),
            instruction: None,
        },
        Case {
            name: "v2-wrap-kms-legacy",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-wrap-alg", "kms")),
            instruction: None,
        },
        Case {
            name: "v2-wrap-aeswrap-legacy",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-wrap-alg", "AESWrap")),
            instruction: None,
        },
        Case {
            name: "v2-wrap-missing",
            policy: allow,
            metadata: meta(&v2, &del("x-amz-wrap-alg")),
            instruction: None,
        },
        Case {
            name: "v2-matdesc-not-json",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-matdesc", "{tenant: t1}")),
            instruction: None,
        },
        Case {
            name: "v2-matdesc-number",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-matdesc", r#"{"a": 1}"#)),
            instruction: None,
        },
        Case {
            name: "v2-matdesc-duplicate",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-matdesc", r#"{"a": "1", "a": "2"}"#)),
            instruction: None,
        },
        Case {
            name: "v2-matdesc-rfc2047-latin1",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-matdesc", "=?ISO-8859-1?B?e30=?=")),
            instruction: None,
        },
        Case {
            name: "v2-key-not-base64",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-key-v2", "not*base64")),
            instruction: None,
        },
        Case {
            name: "v2-length-negative",
            policy: allow,
            metadata: meta(&v2, &set("x-amz-unencrypted-content-length", "-17")),
            instruction: None,
        },
        Case {
            name: "v2-under-require-decrypt",
            policy: CommitmentPolicy::RequireEncryptRequireDecrypt,
            metadata: meta(&v2, &|_| {}),
            instruction: None,
        },
        Case {
            name: "v1-legacy",
            policy: allow,
            metadata: meta(&v2, &|m| {
                let k = m.remove("x-amz-key-v2").unwrap();
                m.insert("x-amz-key".into(), k);
            }),
            instruction: None,
        },
        Case {
            name: "v3-zero-message-id",
            policy: allow,
            metadata: meta(&v3, &set("x-amz-i", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")),
            instruction: None,
        },
        Case {
            name: "v3-commitment-short",
            policy: allow,
            metadata: meta(&v3, &set("x-amz-d", "AQEBAQEBAQEBAQEBAQEBAQ==")),
            instruction: None,
        },
        Case {
            name: "v3-cek-116",
            policy: allow,
            metadata: meta(&v3, &set("x-amz-c", "116")),
            instruction: None,
        },
        Case {
            name: "v3-wrap-32",
            policy: allow,
            metadata: meta(&v3, &set("x-amz-w", "32")),
            instruction: None,
        },
        Case {
            name: "v3-wrap-missing",
            policy: allow,
            metadata: meta(&v3, &del("x-amz-w")),
            instruction: None,
        },
        Case {
            name: "v3-duplicate-spelling",
            policy: allow,
            metadata: {
                let mut m = meta(&v3, &|_| {});
                m.push(("X-Amz-Meta-X-Amz-W".into(), "02".into()));
                m
            },
            instruction: None,
        },
    ];
    let file: BTreeMap<String, String> = serde_json::from_str(v3i_file.as_ref().unwrap()).unwrap();
    let v3i: Vec<(String, String)> = v3i_meta.clone().into_iter().collect();
    let with = |f: &dyn Fn(&mut BTreeMap<String, String>)| {
        let mut m = file.clone();
        f(&mut m);
        Some(serde_json::to_string(&m).unwrap())
    };
    out.extend([
        Case {
            name: "instruction-with-commitment",
            policy: allow,
            metadata: v3i.clone(),
            instruction: with(&|m| drop(m.insert("x-amz-d".into(), v3i_meta["x-amz-d"].clone()))),
        },
        Case {
            name: "instruction-with-message-id",
            policy: allow,
            metadata: v3i.clone(),
            instruction: with(&|m| drop(m.insert("x-amz-i".into(), v3i_meta["x-amz-i"].clone()))),
        },
        Case {
            name: "instruction-unknown-key",
            policy: allow,
            metadata: v3i.clone(),
            instruction: with(&|m| drop(m.insert("x-amz-extra".into(), "1".into()))),
        },
        Case {
            name: "instruction-prefixed-key",
            policy: allow,
            metadata: v3i.clone(),
            instruction: with(&|m| drop(m.insert("x-amz-meta-x-amz-w".into(), "12".into()))),
        },
        Case {
            name: "instruction-not-json",
            policy: allow,
            metadata: v3i.clone(),
            instruction: Some("x-amz-w=12".into()),
        },
        Case {
            name: "instruction-number-value",
            policy: allow,
            metadata: v3i.clone(),
            instruction: Some(r#"{"x-amz-w": 12}"#.into()),
        },
        Case {
            name: "instruction-v2-keys-into-v3",
            policy: allow,
            metadata: v3i.clone(),
            instruction: Some(serde_json::to_string(&v2).unwrap()),
        },
        Case {
            name: "instruction-key-on-both",
            policy: allow,
            metadata: {
                let mut m = v3i.clone();
                m.push(("x-amz-w".into(), "02".into()));
                m
            },
            instruction: with(&|_| {}),
        },
    ]);
    out
}

fn error_of(policy: CommitmentPolicy, metadata: &[(String, String)], instruction: Option<&str>) -> String {
    let options = S3ecOptions::new().with_commitment_policy(policy);
    let pairs = metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let result = match instruction {
        None => S3ecEnvelope::from_metadata(pairs, &options).map(|_| ()),
        Some(file) => S3ecEnvelope::from_instruction_file(pairs, file.as_bytes(), &options).map(|_| ()),
    };
    result.expect_err("a golden case must fail").to_string()
}

fn render(case: &Case) -> String {
    let mut s = format!(
        "expect: {}\npolicy: {}\nform: {}\n---\n",
        error_of(case.policy, &case.metadata, case.instruction.as_deref()),
        case.policy.aws_name(),
        if case.instruction.is_some() { "instruction" } else { "metadata" }
    );
    for (k, v) in &case.metadata {
        s.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(file) = &case.instruction {
        s.push('\n');
        s.push_str(file);
        s.push('\n');
    }
    s
}

#[test]
fn golden_files() {
    let dir = dir();
    if std::env::var_os("S3CRYPT_WRITE_TESTKIT").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for case in cases() {
            std::fs::write(dir.join(case.name), render(&case)).unwrap();
        }
    }
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), cases().len(), "one file per case");
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let (head, rest) = text.split_once("---\n").unwrap();
        let field =
            |f: &str| head.lines().find_map(|l| l.strip_prefix(&format!("{f}: "))).unwrap().to_owned();
        let (meta_text, instruction) = match field("form").as_str() {
            "metadata" => (rest, None),
            "instruction" => {
                let (m, f) = rest.split_once("\n\n").unwrap();
                (m, Some(f.strip_suffix('\n').unwrap()))
            }
            other => panic!("{name}: form {other}"),
        };
        let metadata: Vec<(String, String)> = meta_text
            .lines()
            .map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap())
            .collect();
        assert_eq!(error_of(policy(&field("policy")), &metadata, instruction), field("expect"), "{name}");
    }
}

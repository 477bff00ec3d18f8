//! Shared by the benches: a deterministic generator and the one-shot AES-256-GCM baselines.
#![allow(dead_code, clippy::unwrap_used, clippy::cast_possible_truncation, clippy::large_enum_variant)]

use s3crypt::Backend;
use std::time::Instant;

/// A counter as the generator: a salt's quality does not change the speed.
pub struct Counter(pub u64);
impl s3crypt::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 += 1;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(self.0 as u8);
        self.0 += 1;
        Ok(())
    }
}
impl s3crypt::TryCryptoRng for Counter {}

/// One-shot AES-256-GCM of a whole buffer through a backend: the baselines.
pub enum OneShot {
    RustCrypto(aes_gcm::Aes256Gcm),
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc_rs::aead::LessSafeKey),
}

impl OneShot {
    pub fn new(backend: Backend) -> Self {
        use aes_gcm::aead::KeyInit;
        match backend {
            Backend::RustCrypto => Self::RustCrypto(aes_gcm::Aes256Gcm::new(&[7; 32].into())),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => {
                use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
                Self::AwsLc(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).unwrap()))
            }
            _ => unimplemented!(),
        }
    }

    pub fn seal(&self, buf: &mut [u8]) -> [u8; 16] {
        match self {
            Self::RustCrypto(g) => {
                use aes_gcm::aead::AeadInOut;
                g.encrypt_inout_detached(&[0; 12].into(), &[], buf.into()).unwrap().into()
            }
            #[cfg(feature = "aws-lc")]
            Self::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let tag =
                    k.seal_in_place_separate_tag(Nonce::assume_unique_for_key([0; 12]), Aad::empty(), buf);
                tag.unwrap().as_ref().try_into().unwrap()
            }
        }
    }

    /// Seals `input` into `out` (ciphertext, then tag): the out-of-place one-shot.
    pub fn seal_to(&self, input: &[u8], out: &mut [u8]) {
        let (ct, tag) = out.split_at_mut(input.len());
        match self {
            Self::RustCrypto(g) => {
                use aes_gcm::aead::{AeadInOut, inout::InOutBuf};
                let buf = InOutBuf::new(input, ct).unwrap();
                tag.copy_from_slice(&g.encrypt_inout_detached(&[0; 12].into(), &[], buf).unwrap());
            }
            #[cfg(feature = "aws-lc")]
            Self::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.seal_out_of_place_scatter(
                    Nonce::assume_unique_for_key([0; 12]),
                    Aad::empty(),
                    input,
                    ct,
                    &[],
                    tag,
                )
                .unwrap();
            }
        }
    }

    pub fn open(&self, ct: &[u8], tag: &[u8; 16], out: &mut [u8]) {
        match self {
            Self::RustCrypto(g) => {
                use aes_gcm::aead::{AeadInOut, inout::InOutBuf};
                let buf = InOutBuf::new(ct, out).unwrap();
                g.decrypt_inout_detached(&[0; 12].into(), &[], buf, tag.into()).unwrap();
            }
            #[cfg(feature = "aws-lc")]
            Self::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_separate_gather(Nonce::assume_unique_for_key([0; 12]), Aad::empty(), ct, tag, out)
                    .unwrap();
            }
        }
    }
}

/// The machine, printed above every table: ratios are only comparable on the same one.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// Seconds one call of `f` takes.
pub fn time(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// The median of `v` (its upper middle for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates `baseline` and `candidate`; returns (baseline s, candidate s, median ratio of speeds).
pub fn compare(rounds: usize, baseline: &mut dyn FnMut(), candidate: &mut dyn FnMut()) -> (f64, f64, f64) {
    compare_after(rounds, &mut || {}, baseline, candidate)
}

/// As [`compare`], running the untimed `setup` before every timed call.
pub fn compare_after(
    rounds: usize,
    setup: &mut dyn FnMut(),
    baseline: &mut dyn FnMut(),
    candidate: &mut dyn FnMut(),
) -> (f64, f64, f64) {
    for _ in 0..3 {
        setup();
        baseline();
        setup();
        candidate();
    }
    let mut timed = |f: &mut dyn FnMut()| {
        setup();
        time(f)
    };
    let (mut b, mut c, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let (tb, tc) = if i % 2 == 0 {
            let tb = timed(baseline);
            (tb, timed(candidate))
        } else {
            let tc = timed(candidate);
            (timed(baseline), tc)
        };
        b.push(tb);
        c.push(tc);
        r.push(tb / tc);
    }
    (median(b), median(c), median(r))
}

//! SSE-S3: root keys held by the gateway.

use crate::envelope::{Envelope, ObjectId, Scheme, valid_key_id};
use crate::error::{Error, Result};
use crate::keys::RootKey;
use crate::wrap::{Encryptor, WrappingKey};
use rand_core::TryCryptoRng;

struct Entry {
    id: String,
    version: u32,
    key: RootKey,
}

/// SSE-S3 root keys: several named, versioned 256-bit keys, one of them active.
///
/// New objects are sealed under the active key; objects sealed under any key still in the ring
/// open; [`Keyring::rotate`] re-seals an envelope under the active key without touching the body.
/// Keys never print: `Debug` shows ids and versions only.
pub struct Keyring {
    entries: Vec<Entry>,
    active: usize,
}

impl core::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let keys: Vec<(&str, u32)> = self.entries.iter().map(|e| (e.id.as_str(), e.version)).collect();
        f.debug_struct("Keyring").field("keys", &keys).field("active", &keys.get(self.active)).finish()
    }
}

impl Keyring {
    /// A keyring holding one key, which is active.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] unless `id` is 1 to 255 printable ASCII characters.
    pub fn new(id: &str, version: u32, key: RootKey) -> Result<Self> {
        if !valid_key_id(id) {
            return Err(Error::InvalidKeyId);
        }
        Ok(Self { entries: vec![Entry { id: id.to_owned(), version, key }], active: 0 })
    }

    /// Adds a key (not active until [`Keyring::activate`]).
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] for a malformed id; [`Error::DuplicateKey`] if the id and version are
    /// already present.
    pub fn add(&mut self, id: &str, version: u32, key: RootKey) -> Result<()> {
        if !valid_key_id(id) {
            return Err(Error::InvalidKeyId);
        }
        if self.find(id, version).is_some() {
            return Err(Error::DuplicateKey { key_id: id.to_owned(), version });
        }
        self.entries.push(Entry { id: id.to_owned(), version, key });
        Ok(())
    }

    /// Makes a key in the ring the one new objects are sealed under.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the ring has no such key.
    pub fn activate(&mut self, id: &str, version: u32) -> Result<()> {
        self.active = self.find(id, version).ok_or_else(|| unknown(id, version))?;
        Ok(())
    }

    /// The active key's id and version.
    pub fn active(&self) -> (&str, u32) {
        let e = &self.entries[self.active];
        (&e.id, e.version)
    }

    /// Whether `envelope` is sealed under a key other than the active one.
    pub fn needs_rotation(&self, envelope: &Envelope) -> bool {
        envelope.scheme() != Scheme::SseS3 || (envelope.key_id(), envelope.key_version()) != self.active()
    }

    /// Re-seals `envelope` of `object` under the active key. The body is untouched.
    ///
    /// # Errors
    /// Any error of [`Envelope::open`] (an unknown key, a tampered envelope).
    pub fn rotate<R: TryCryptoRng + ?Sized>(
        &self,
        envelope: &Envelope,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<Envelope> {
        envelope.reseal((self, object), (self, object), rng)
    }

    /// The index of a key (keys keep their index: they are only ever appended).
    pub(crate) fn find(&self, id: &str, version: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id && e.version == version)
    }

    /// The index of the active key.
    pub(crate) fn active_index(&self) -> usize {
        self.active
    }

    /// The key at `index` (from [`Keyring::find`] or [`Keyring::active_index`]): secret, id, version.
    pub(crate) fn key_at(&self, index: usize) -> Option<(&[u8; crate::KEY_LEN], &str, u32)> {
        self.entries.get(index).map(|e| (e.key.expose_secret(), e.id.as_str(), e.version))
    }
}

pub(crate) fn unknown(id: &str, version: u32) -> Error {
    Error::UnknownKey { key_id: id.to_owned(), version }
}

impl Encryptor for Keyring {
    fn scheme(&self) -> Scheme {
        Scheme::SseS3
    }

    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        let e = &self.entries[self.active];
        Ok(WrappingKey::new(e.key.expose_secret(), &e.id, e.version))
    }

    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        let (id, version) = (envelope.key_id(), envelope.key_version());
        let e = &self.entries[self.find(id, version).ok_or_else(|| unknown(id, version))?];
        Ok(WrappingKey::new(e.key.expose_secret(), &e.id, e.version))
    }
}

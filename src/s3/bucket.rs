//! Bucket default encryption: the `ServerSideEncryptionConfiguration` of PutBucketEncryption.
//!
//! The XML is read by a strict parser written for this one small schema rather than a general XML
//! crate: it accepts exactly what S3 clients send (an optional XML declaration, the S3 namespace,
//! whitespace and comments between elements, the five predefined entities) and refuses everything
//! else — DTDs, processing instructions, CDATA, other entities, attributes, unknown or repeated
//! elements — so there is no entity expansion and no schema S3 itself would reject.

use super::SseError;
use crate::envelope::valid_key_id;
use crate::error::{Error, Result};

/// The S3 XML namespace.
const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
/// Longest configuration accepted (S3's are a few hundred bytes).
const MAX_XML_LEN: usize = 16 * 1024;
/// Deepest element nesting in the schema (configuration, rule, default, algorithm).
const MAX_DEPTH: usize = 4;

/// The algorithm a bucket applies to writes that name none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DefaultAlgorithm {
    /// `AES256`: SSE-S3.
    SseS3,
    /// `aws:kms`: SSE-KMS under `key_id` (`KMSMasterKeyID`), or the gateway's default KMS key.
    SseKms {
        /// The `KMSMasterKeyID`, if given.
        key_id: Option<String>,
    },
}

/// A bucket's default encryption (PutBucketEncryption / GetBucketEncryption), applied by
/// [`crate::S3Request`] to writes that name no mode.
///
/// ```
/// use s3crypt::{BucketEncryption, DefaultAlgorithm};
///
/// let xml = r#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
///   <Rule>
///     <ApplyServerSideEncryptionByDefault>
///       <SSEAlgorithm>aws:kms</SSEAlgorithm>
///       <KMSMasterKeyID>alias/logs</KMSMasterKeyID>
///     </ApplyServerSideEncryptionByDefault>
///     <BucketKeyEnabled>true</BucketKeyEnabled>
///   </Rule>
/// </ServerSideEncryptionConfiguration>"#;
/// let config = BucketEncryption::from_xml(xml.as_bytes())?;
/// assert_eq!(config.algorithm(), &DefaultAlgorithm::SseKms { key_id: Some("alias/logs".into()) });
/// assert!(config.bucket_key());
/// assert_eq!(BucketEncryption::from_xml(config.to_xml().as_bytes())?, config);
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BucketEncryption {
    algorithm: DefaultAlgorithm,
    bucket_key: bool,
}

impl BucketEncryption {
    /// SSE-S3 by default.
    pub fn sse_s3() -> Self {
        Self { algorithm: DefaultAlgorithm::SseS3, bucket_key: false }
    }

    /// SSE-KMS by default, under `key_id` (or the gateway's default KMS key), with or without an
    /// S3 Bucket Key.
    ///
    /// # Errors
    /// [`Error::Sse`] ([`SseError::InvalidKmsKeyId`]) for a malformed key id.
    pub fn sse_kms(key_id: Option<&str>, bucket_key: bool) -> Result<Self> {
        if key_id.is_some_and(|id| !valid_key_id(id)) {
            return Err(SseError::InvalidKmsKeyId.into());
        }
        Ok(Self { algorithm: DefaultAlgorithm::SseKms { key_id: key_id.map(str::to_owned) }, bucket_key })
    }

    /// The default algorithm.
    pub fn algorithm(&self) -> &DefaultAlgorithm {
        &self.algorithm
    }

    /// `BucketKeyEnabled`: SSE-KMS writes that do not say otherwise use an S3 Bucket Key.
    pub fn bucket_key(&self) -> bool {
        self.bucket_key
    }

    /// Parses the body of a PutBucketEncryption request with S3's rules: one `Rule` with one
    /// `ApplyServerSideEncryptionByDefault` whose `SSEAlgorithm` is `AES256` or `aws:kms`, a
    /// `KMSMasterKeyID` only with `aws:kms`, an optional `BucketKeyEnabled` of `true`/`false`.
    ///
    /// # Errors
    /// [`Error::Sse`] with S3's answer: [`SseError::MalformedXml`] (400 MalformedXML) for XML
    /// that is not well formed or does not follow the schema; [`SseError::DsseNotSupported`] for
    /// `aws:kms:dsse`; [`SseError::KmsKeyIdWithoutKms`] for a key id with `AES256`;
    /// [`SseError::InvalidKmsKeyId`] for a malformed key id.
    pub fn from_xml(xml: &[u8]) -> Result<Self> {
        if xml.len() > MAX_XML_LEN {
            return Err(malformed());
        }
        let text = core::str::from_utf8(xml).map_err(|_| malformed())?;
        let root = Parser { rest: text }.document()?;
        if root.name != "ServerSideEncryptionConfiguration"
            || root.namespace.as_deref().is_some_and(|n| n != NAMESPACE)
        {
            return Err(malformed());
        }
        let [rule] = root.only(&["Rule"])?.as_slice() else { return Err(malformed()) };
        rule.only(&["ApplyServerSideEncryptionByDefault", "BucketKeyEnabled"])?;
        let apply = rule.one("ApplyServerSideEncryptionByDefault")?.ok_or_else(malformed)?;
        let bucket_key = match rule.one("BucketKeyEnabled")?.map(Element::leaf).transpose()? {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(malformed()),
        };
        apply.only(&["SSEAlgorithm", "KMSMasterKeyID"])?;
        let algorithm = apply.one("SSEAlgorithm")?.ok_or_else(malformed)?.leaf()?;
        let key_id = apply.one("KMSMasterKeyID")?.map(Element::leaf).transpose()?;
        match algorithm {
            "AES256" if key_id.is_some() => Err(SseError::KmsKeyIdWithoutKms.into()),
            "AES256" => Ok(Self { algorithm: DefaultAlgorithm::SseS3, bucket_key }),
            "aws:kms" => Self::sse_kms(key_id, bucket_key),
            "aws:kms:dsse" => Err(SseError::DsseNotSupported.into()),
            _ => Err(malformed()),
        }
    }

    /// The configuration as GetBucketEncryption returns it.
    pub fn to_xml(&self) -> String {
        let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        xml.push_str(
            r#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
        );
        xml.push_str("<Rule><ApplyServerSideEncryptionByDefault>");
        match &self.algorithm {
            DefaultAlgorithm::SseS3 => xml.push_str("<SSEAlgorithm>AES256</SSEAlgorithm>"),
            DefaultAlgorithm::SseKms { key_id } => {
                xml.push_str("<SSEAlgorithm>aws:kms</SSEAlgorithm>");
                if let Some(id) = key_id {
                    xml.push_str("<KMSMasterKeyID>");
                    escape_into(id, &mut xml);
                    xml.push_str("</KMSMasterKeyID>");
                }
            }
        }
        xml.push_str("</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>");
        xml.push_str(if self.bucket_key { "true" } else { "false" });
        xml.push_str("</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>");
        xml
    }
}

fn malformed() -> Error {
    SseError::MalformedXml.into()
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// An element of the document: its name, namespace (root only), text and child elements.
struct Element<'x> {
    name: &'x str,
    namespace: Option<String>,
    text: String,
    children: Vec<Element<'x>>,
}

impl<'x> Element<'x> {
    /// Refuses children outside `allowed`; returns the children.
    fn only(&self, allowed: &[&str]) -> Result<&Vec<Element<'x>>> {
        if self.children.iter().any(|c| !allowed.contains(&c.name)) || !self.text.trim().is_empty() {
            return Err(malformed());
        }
        Ok(&self.children)
    }

    /// The child `name`, if present once; refused if repeated.
    fn one(&self, name: &str) -> Result<Option<&Element<'x>>> {
        let mut found = self.children.iter().filter(|c| c.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(malformed());
        }
        Ok(first)
    }

    /// The text of an element that has no children, trimmed as S3 does.
    fn leaf(&self) -> Result<&str> {
        if !self.children.is_empty() {
            return Err(malformed());
        }
        Ok(self.text.trim())
    }
}

struct Parser<'x> {
    rest: &'x str,
}

impl<'x> Parser<'x> {
    fn document(mut self) -> Result<Element<'x>> {
        self.rest = self.rest.strip_prefix('\u{feff}').unwrap_or(self.rest);
        if let Some(after) = self.rest.strip_prefix("<?xml") {
            let end = after.find("?>").ok_or_else(malformed)?;
            if !after.starts_with([' ', '\t', '\r', '\n']) {
                return Err(malformed());
            }
            self.rest = &after[end + 2..];
        }
        self.misc()?;
        let root = self.element(1)?;
        self.misc()?;
        if !self.rest.is_empty() {
            return Err(malformed());
        }
        Ok(root)
    }

    /// Skips whitespace and comments.
    fn misc(&mut self) -> Result<()> {
        loop {
            self.rest = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
            if let Some(after) = self.rest.strip_prefix("<!--") {
                let end = after.find("-->").ok_or_else(malformed)?;
                self.rest = &after[end + 3..];
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<&'x str> {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(self.rest.len());
        if end == 0 || !self.rest.as_bytes()[0].is_ascii_alphabetic() {
            return Err(malformed());
        }
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        Ok(name)
    }

    fn element(&mut self, depth: usize) -> Result<Element<'x>> {
        if depth > MAX_DEPTH {
            return Err(malformed());
        }
        self.rest = self.rest.strip_prefix('<').ok_or_else(malformed)?;
        let name = self.name()?;
        let mut namespace = None;
        // Attributes: only the default namespace declaration, and only on the root.
        loop {
            let trimmed = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
            let spaced = trimmed.len() != self.rest.len();
            self.rest = trimmed;
            if let Some(rest) = self.rest.strip_prefix("/>") {
                self.rest = rest;
                return Ok(Element { name, namespace, text: String::new(), children: Vec::new() });
            }
            if let Some(rest) = self.rest.strip_prefix('>') {
                self.rest = rest;
                break;
            }
            if !spaced || depth != 1 || namespace.is_some() {
                return Err(malformed());
            }
            self.rest = self.rest.strip_prefix("xmlns").ok_or_else(malformed)?;
            self.rest = self
                .rest
                .trim_start_matches([' ', '\t', '\r', '\n'])
                .strip_prefix('=')
                .ok_or_else(malformed)?;
            self.rest = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
            let quote = self.rest.chars().next().filter(|q| *q == '"' || *q == '\'').ok_or_else(malformed)?;
            let after = &self.rest[1..];
            let end = after.find(quote).ok_or_else(malformed)?;
            namespace = Some(unescape(&after[..end])?);
            self.rest = &after[end + 1..];
        }
        let mut text = String::new();
        let mut children = Vec::new();
        loop {
            let end = self.rest.find('<').ok_or_else(malformed)?;
            text.push_str(&unescape(&self.rest[..end])?);
            self.rest = &self.rest[end..];
            if let Some(after) = self.rest.strip_prefix("</") {
                self.rest = after;
                if self.name()? != name {
                    return Err(malformed());
                }
                self.rest = self
                    .rest
                    .trim_start_matches([' ', '\t', '\r', '\n'])
                    .strip_prefix('>')
                    .ok_or_else(malformed)?;
                return Ok(Element { name, namespace, text, children });
            }
            if self.rest.starts_with("<!--") {
                self.misc()?;
                continue;
            }
            if self.rest.starts_with("<!") || self.rest.starts_with("<?") {
                return Err(malformed());
            }
            children.push(self.element(depth + 1)?);
        }
    }
}

/// Decodes the five predefined entities; any other `&` is refused.
fn unescape(raw: &str) -> Result<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (c, len) = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&apos;", '\'')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e))
            .map(|(e, c)| (c, e.len()))
            .ok_or_else(malformed)?;
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    Ok(out)
}

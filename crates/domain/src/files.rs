//! Uploaded files: what Onramp accepts, recognised by their first bytes, and how large each
//! kind may be. Files are named by the SHA-256 of their bytes ([`FileHash`]), so the bytes
//! behind a name never change.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The lowercase hex SHA-256 of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileHash(String);

impl FileHash {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            Ok(Self(s.to_string()))
        } else {
            Err("not a file name Onramp gave".into())
        }
    }
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(hex::encode(Sha256::digest(bytes)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for FileHash {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<FileHash> for String {
    fn from(h: FileHash) -> Self {
        h.0
    }
}

/// The kinds of file Onramp accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    Mp4,
    WebM,
    WebVtt,
    Pdf,
    Png,
    Jpeg,
}

impl MediaType {
    pub const ALL: [MediaType; 6] = [
        Self::Mp4,
        Self::WebM,
        Self::WebVtt,
        Self::Pdf,
        Self::Png,
        Self::Jpeg,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp4 => "video/mp4",
            Self::WebM => "video/webm",
            Self::WebVtt => "text/vtt",
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Mp4 => "an MP4 video",
            Self::WebM => "a WebM video",
            Self::WebVtt => "a WebVTT captions file",
            Self::Pdf => "a PDF",
            Self::Png => "a PNG image",
            Self::Jpeg => "a JPEG image",
        }
    }
    pub fn is_video(self) -> bool {
        matches!(self, Self::Mp4 | Self::WebM)
    }
    /// Recognises a file by its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(Self::WebM);
        }
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            return Some(Self::Mp4);
        }
        if bytes.starts_with(b"%PDF-") {
            return Some(Self::Pdf);
        }
        if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            return Some(Self::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        let text = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        if text.starts_with(b"WEBVTT")
            && matches!(text.get(6), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
        {
            return Some(Self::WebVtt);
        }
        None
    }
}

/// How large each kind of upload may be, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub video: u64,
    pub pdf: u64,
    pub image: u64,
    pub captions: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            video: 500 << 20,
            pdf: 25 << 20,
            image: 5 << 20,
            captions: 2 << 20,
        }
    }
}

impl UploadLimits {
    pub fn of(&self, m: MediaType) -> u64 {
        match m {
            MediaType::Mp4 | MediaType::WebM => self.video,
            MediaType::Pdf => self.pdf,
            MediaType::Png | MediaType::Jpeg => self.image,
            MediaType::WebVtt => self.captions,
        }
    }
}

fn megabytes(n: u64) -> String {
    let mb = n as f64 / f64::from(1 << 20);
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// Checks an upload against what the field expects: not empty, of one of the expected kinds
/// (by its bytes, whatever its name says), and within its size limit. Gives its kind.
pub fn check_upload(
    expected: &[MediaType],
    bytes: &[u8],
    limits: &UploadLimits,
) -> Result<MediaType, String> {
    if bytes.is_empty() {
        return Err("The file is empty.".into());
    }
    let wanted = || {
        let names: Vec<&str> = expected.iter().map(|m| m.label()).collect();
        names.join(" or ")
    };
    let Some(kind) = MediaType::sniff(bytes).filter(|k| expected.contains(k)) else {
        return Err(format!("This is not {}.", wanted()));
    };
    let max = limits.of(kind);
    if bytes.len() as u64 > max {
        return Err(format!(
            "The file is {}; {} may be at most {}.",
            megabytes(bytes.len() as u64),
            kind.label(),
            megabytes(max)
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes() {
        assert_eq!(
            MediaType::sniff(b"\x1a\x45\xdf\xa3rest"),
            Some(MediaType::WebM)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x18ftypmp42"),
            Some(MediaType::Mp4)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(b"\xef\xbb\xbfWEBVTT\n\n"),
            Some(MediaType::WebVtt)
        );
        assert_eq!(MediaType::sniff(b"WEBVTTX"), None);
        assert_eq!(MediaType::sniff(b"<html>"), None);
    }

    #[test]
    fn uploads_are_checked_for_kind_and_size() {
        let limits = UploadLimits {
            captions: 10,
            ..Default::default()
        };
        assert_eq!(
            check_upload(&[MediaType::WebVtt], b"", &limits),
            Err("The file is empty.".into())
        );
        assert_eq!(
            check_upload(&[MediaType::WebM, MediaType::Mp4], b"%PDF-1.4", &limits),
            Err("This is not a WebM video or an MP4 video.".into())
        );
        let big = check_upload(
            &[MediaType::WebVtt],
            b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n",
            &limits,
        )
        .unwrap_err();
        assert!(big.contains("at most"), "{big}");
        assert_eq!(
            check_upload(&[MediaType::Pdf], b"%PDF-1.4 x", &UploadLimits::default()),
            Ok(MediaType::Pdf)
        );
    }

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        let h = FileHash::of(b"abc");
        assert_eq!(
            h.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(FileHash::parse(h.as_str()).is_ok());
        assert!(FileHash::parse("../etc/passwd").is_err());
        assert!(FileHash::parse(&h.as_str().to_uppercase()).is_err());
    }
}

//! What the server reads from an uploaded video and its captions, without outside tools:
//! the duration of a WebM/Matroska or MP4/QuickTime file, and whether a WebVTT file is valid.

/// The duration of a video in milliseconds, from its own header.
pub fn video_duration_ms(bytes: &[u8]) -> Result<u64, String> {
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        webm_duration(bytes)
    } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        mp4_duration(bytes)
    } else {
        Err("This is not a WebM or MP4 video.".into())
    }
}

// ---------------------------------------------------------------- Matroska / WebM

/// Reads an EBML variable-length number: (value, length). With `strip`, the length marker
/// bit is removed (sizes); without, it stays (element ids).
fn vint(b: &[u8], at: usize, strip: bool) -> Option<(u64, usize)> {
    let first = *b.get(at)?;
    if first == 0 {
        return None;
    }
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || at + len > b.len() {
        return None;
    }
    let mask = (0xFFu32 >> len) as u8;
    let mut v = u64::from(if strip { first & mask } else { first });
    for i in 1..len {
        v = (v << 8) | u64::from(b[at + i]);
    }
    Some((v, len))
}

const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const TIMECODE_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;

fn webm_duration(b: &[u8]) -> Result<u64, String> {
    let bad = || "The WebM file is damaged: its length cannot be read.".to_string();
    // Walk the top level to the Segment, then its children to Info.
    let mut at = 0;
    let mut segment = None;
    while at < b.len() {
        let (id, il) = vint(b, at, false).ok_or_else(bad)?;
        let (size, sl) = vint(b, at + il, true).ok_or_else(bad)?;
        let body = at + il + sl;
        if id == SEGMENT {
            segment = Some(body);
            break;
        }
        at = body
            .checked_add(usize::try_from(size).map_err(|_| bad())?)
            .ok_or_else(bad)?;
    }
    let mut at = segment.ok_or_else(bad)?;
    let mut scale: u64 = 1_000_000;
    let mut duration: Option<f64> = None;
    while at < b.len() {
        let (id, il) = vint(b, at, false).ok_or_else(bad)?;
        let (size, sl) = vint(b, at + il, true).ok_or_else(bad)?;
        let body = at + il + sl;
        // An unknown size (all ones) means "to the end"; only Info's children are needed.
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if id == INFO {
            let end = body.saturating_add(size).min(b.len());
            let mut i = body;
            while i < end {
                let (cid, cil) = vint(b, i, false).ok_or_else(bad)?;
                let (csize, csl) = vint(b, i + cil, true).ok_or_else(bad)?;
                let cbody = i + cil + csl;
                let csize = usize::try_from(csize).map_err(|_| bad())?;
                let data = b
                    .get(cbody..cbody.checked_add(csize).ok_or_else(bad)?)
                    .ok_or_else(bad)?;
                match cid {
                    TIMECODE_SCALE if !data.is_empty() && data.len() <= 8 => {
                        scale = data.iter().fold(0u64, |v, x| (v << 8) | u64::from(*x));
                    }
                    DURATION if data.len() == 4 => {
                        duration = Some(f64::from(f32::from_be_bytes([
                            data[0], data[1], data[2], data[3],
                        ])));
                    }
                    DURATION if data.len() == 8 => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(data);
                        duration = Some(f64::from_be_bytes(a));
                    }
                    _ => {}
                }
                i = cbody + csize;
            }
            break;
        }
        if size == usize::MAX {
            break;
        }
        at = body.checked_add(size).ok_or_else(bad)?;
    }
    let d = duration.ok_or_else(|| {
        "The WebM file does not say how long it is; export it again with its duration.".to_string()
    })?;
    let ms = d * scale as f64 / 1_000_000.0;
    if !ms.is_finite() || ms <= 0.0 || ms > 24.0 * 3600.0 * 1000.0 {
        return Err(bad());
    }
    Ok(ms.round() as u64)
}

// ---------------------------------------------------------------- MP4 / QuickTime

fn mp4_duration(b: &[u8]) -> Result<u64, String> {
    let bad = || "The MP4 file is damaged: its length cannot be read.".to_string();
    let moov = find_box(b, b"moov")
        .ok_or_else(|| "The MP4 file has no movie header; export it again.".to_string())?;
    let mvhd = find_box(moov, b"mvhd").ok_or_else(bad)?;
    let version = *mvhd.first().ok_or_else(bad)?;
    let (timescale, duration) = if version == 1 {
        let ts = u32::from_be_bytes(
            mvhd.get(20..24)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        let d = u64::from_be_bytes(
            mvhd.get(24..32)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        (u64::from(ts), d)
    } else {
        let ts = u32::from_be_bytes(
            mvhd.get(12..16)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        let d = u32::from_be_bytes(
            mvhd.get(16..20)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        (u64::from(ts), u64::from(d))
    };
    if timescale == 0 || duration == 0 || duration == u64::from(u32::MAX) {
        return Err(bad());
    }
    let ms = u128::from(duration) * 1000 / u128::from(timescale);
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms <= 24 * 3600 * 1000)
        .ok_or_else(bad)
}

/// The body of the first box named `name` among the boxes of `b`.
fn find_box<'a>(b: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 0usize;
    while at + 8 <= b.len() {
        let size32 = u32::from_be_bytes(b[at..at + 4].try_into().ok()?);
        let kind = &b[at + 4..at + 8];
        let (header, size) = match size32 {
            0 => (8, b.len() - at),
            1 => {
                let s = u64::from_be_bytes(b.get(at + 8..at + 16)?.try_into().ok()?);
                (16, usize::try_from(s).ok()?)
            }
            s => (8, s as usize),
        };
        if size < header || at.checked_add(size)? > b.len() {
            return None;
        }
        if kind == name {
            return Some(&b[at + header..at + size]);
        }
        at += size;
    }
    None
}

// ---------------------------------------------------------------- WebVTT

/// The largest captions file accepted, in bytes.
pub const VTT_MAX_BYTES: usize = 2 << 20;

/// A valid WebVTT file's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vtt {
    pub cues: usize,
    pub last_end_ms: u64,
}

/// A problem in a WebVTT file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VttProblem {
    pub line: usize,
    pub message: String,
}

fn timestamp(s: &str) -> Option<u64> {
    let (hms, ms) = s.split_once('.')?;
    if ms.len() != 3 || !ms.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    let num = |p: &str, two: bool| -> Option<u64> {
        if (two && p.len() != 2) || p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (h, m, sec) = match parts.as_slice() {
        [m, s] => (0, num(m, true)?, num(s, true)?),
        [h, m, s] if h.len() >= 2 => (num(h, false)?, num(m, true)?, num(s, true)?),
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms.parse::<u64>().ok()?)
}

/// Checks a WebVTT file: the `WEBVTT` header, blocks separated by blank lines, each cue's
/// timing (`00:01.000 --> 00:04.000`, start before end, starts in order) and text.
pub fn validate_webvtt(text: &str) -> Result<Vtt, Vec<VttProblem>> {
    let mut problems = Vec::new();
    let mut push = |line: usize, m: &str| {
        problems.push(VttProblem {
            line,
            message: m.to_string(),
        })
    };
    if text.len() > VTT_MAX_BYTES {
        push(1, "The captions file is too large");
        return Err(problems);
    }
    if text.contains('\0') {
        push(1, "The captions file holds a NUL character");
        return Err(problems);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    match lines.first() {
        Some(first)
            if *first == "WEBVTT"
                || first.starts_with("WEBVTT ")
                || first.starts_with("WEBVTT\t") => {}
        _ => {
            push(1, "A captions file starts with the line WEBVTT");
            return Err(problems);
        }
    }
    let mut cues = 0;
    let mut last_start = 0;
    let mut last_end = 0;
    let mut i = 1;
    // The header block runs to the first blank line.
    while i < lines.len() && !lines[i].trim().is_empty() {
        i += 1;
    }
    while i < lines.len() {
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        if i >= lines.len() {
            break;
        }
        let start_line = i;
        let mut block: Vec<&str> = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            block.push(lines[i]);
            i += 1;
        }
        let first = block[0];
        if first.starts_with("NOTE") || first == "STYLE" || first == "REGION" {
            continue;
        }
        // An optional identifier, then the timing line.
        let (timing_at, timing) = if first.contains("-->") {
            (0, first)
        } else if block.len() > 1 && block[1].contains("-->") {
            (1, block[1])
        } else {
            push(
                start_line + 1,
                "A cue needs a timing line such as 00:01.000 --> 00:04.000",
            );
            continue;
        };
        let line_no = start_line + timing_at + 1;
        let mut parts = timing.split("-->");
        let start = parts.next().map(str::trim).and_then(timestamp);
        let end = parts
            .next()
            .and_then(|r| r.split_whitespace().next())
            .and_then(timestamp);
        match (start, end) {
            (Some(s), Some(e)) => {
                if s >= e {
                    push(line_no, "A cue must end after it starts");
                } else if s < last_start {
                    push(line_no, "Cues must be in order of their start times");
                }
                last_start = s;
                last_end = last_end.max(e);
            }
            _ => push(
                line_no,
                "The timing is not valid; write it as 00:01.000 --> 00:04.000",
            ),
        }
        if block.len() <= timing_at + 1 {
            push(line_no, "A cue needs text after its timing line");
        }
        cues += 1;
    }
    if cues == 0 {
        push(lines.len().max(1), "The captions file has no cues");
    }
    if problems.is_empty() {
        Ok(Vtt {
            cues,
            last_end_ms: last_end,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curriculum_video() -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/curriculum");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let media = entry.unwrap().path().join("media");
            if let Ok(files) = std::fs::read_dir(&media) {
                for f in files {
                    let p = f.unwrap().path();
                    if p.extension().is_some_and(|e| e == "webm") {
                        return std::fs::read(p).unwrap();
                    }
                }
            }
        }
        panic!("the curriculum has a WebM video");
    }

    #[test]
    fn a_webm_says_how_long_it_is() {
        let ms = video_duration_ms(&curriculum_video()).unwrap();
        assert!((10_000..=30_000).contains(&ms), "{ms}");
    }

    fn mp4(version: u8, timescale: u32, duration: u64, moov_last: bool) -> Vec<u8> {
        let mut mvhd = vec![version, 0, 0, 0];
        if version == 1 {
            mvhd.extend([0u8; 16]);
            mvhd.extend(timescale.to_be_bytes());
            mvhd.extend(duration.to_be_bytes());
        } else {
            mvhd.extend([0u8; 8]);
            mvhd.extend(timescale.to_be_bytes());
            mvhd.extend((duration as u32).to_be_bytes());
        }
        mvhd.extend([0u8; 80]);
        let boxed = |name: &[u8; 4], body: &[u8]| {
            let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            v.extend(name);
            v.extend(body);
            v
        };
        let moov = boxed(b"moov", &boxed(b"mvhd", &mvhd));
        let mdat = boxed(b"mdat", &[0u8; 64]);
        let mut f = boxed(b"ftyp", b"isom\0\0\0\x01isom");
        if moov_last {
            f.extend(mdat);
            f.extend(moov);
        } else {
            f.extend(moov);
            f.extend(mdat);
        }
        f
    }

    #[test]
    fn an_mp4_says_how_long_it_is_wherever_its_header_is() {
        assert_eq!(video_duration_ms(&mp4(0, 1000, 12_345, false)), Ok(12_345));
        assert_eq!(
            video_duration_ms(&mp4(0, 90_000, 90_000 * 20, true)),
            Ok(20_000)
        );
        assert_eq!(video_duration_ms(&mp4(1, 600, 600 * 65, true)), Ok(65_000));
        assert!(video_duration_ms(&mp4(0, 0, 5, false)).is_err());
        let mut cut = mp4(0, 1000, 5000, true);
        cut.truncate(cut.len() - 40);
        assert!(video_duration_ms(&cut).is_err());
        assert!(video_duration_ms(b"not a video").is_err());
    }

    #[test]
    fn webvtt_is_checked_line_by_line() {
        let ok = "WEBVTT\n\n1\n00:00.000 --> 00:02.500 align:start\nHello.\n\nNOTE a note\n\n00:01:02.000 --> 00:01:04.000\nLater.\n";
        assert_eq!(
            validate_webvtt(ok),
            Ok(Vtt {
                cues: 2,
                last_end_ms: 64_000
            })
        );
        assert_eq!(
            validate_webvtt("\u{feff}WEBVTT\n\n00:00.000 --> 00:01.000\nx").map(|v| v.cues),
            Ok(1)
        );
        let e = validate_webvtt("Hello").unwrap_err();
        assert!(e[0].message.contains("WEBVTT"));
        let e = validate_webvtt(
            "WEBVTT\n\n00:05.000 --> 00:02.000\nBackwards\n\n00:01.000 --> 00:0x.000\nBad\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 3);
        assert_eq!(e[1].line, 6);
        assert!(validate_webvtt("WEBVTT\n").is_err());
        assert!(validate_webvtt("WEBVTT\n\n00:00.000 --> 00:01.000\n").is_err());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), prefix in 0usize..3) {
            let mut b = match prefix {
                0 => vec![0x1A, 0x45, 0xDF, 0xA3],
                1 => b"\0\0\0\x10ftypisom".to_vec(),
                _ => Vec::new(),
            };
            b.extend(bytes);
            let _ = video_duration_ms(&b);
            let _ = validate_webvtt(&String::from_utf8_lossy(&b));
        }
    }
}

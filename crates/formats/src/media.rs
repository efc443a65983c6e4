//! What the server reads from an uploaded video and its captions, without outside tools:
//! the duration of a WebM/Matroska or MP4/QuickTime file, checked whole (a file cut short,
//! or one without its length or its frames, is refused), and whether a WebVTT file is valid.

/// The duration of a video in milliseconds, from its own header, once its whole structure
/// has been read and found complete.
pub fn video_duration_ms(bytes: &[u8]) -> Result<u64, String> {
    if bytes.starts_with(&EBML_MAGIC) {
        webm_duration(bytes)
    } else if bytes.len() >= 8 && QUICKTIME_TOP.contains(&&bytes[4..8]) {
        mp4_duration(bytes)
    } else {
        Err("This is not a WebM or MP4 video.".into())
    }
}

/// The longest video accepted.
const MAX_MS: u64 = 24 * 3600 * 1000;

// ---------------------------------------------------------------- Matroska / WebM

const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

/// Reads an EBML variable-length number: (value, length). With `strip`, the length marker
/// bit is removed (sizes); without, it stays (element ids).
fn vint(b: &[u8], at: usize, strip: bool) -> Option<(u64, usize)> {
    let first = *b.get(at)?;
    if first == 0 {
        return None;
    }
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || at.checked_add(len)? > b.len() {
        return None;
    }
    let mask = (0xFFu32 >> len) as u8;
    let mut v = u64::from(if strip { first & mask } else { first });
    for i in 1..len {
        v = (v << 8) | u64::from(b[at + i]);
    }
    Some((v, len))
}

const EBML: u64 = 0x1A45_DFA3;
const DOC_TYPE: u64 = 0x4282;
const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const TRACKS: u64 = 0x1654_AE6B;
const CLUSTER: u64 = 0x1F43_B675;
const TIMECODE_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;
/// The ids that may follow a Cluster inside a Segment: where a Cluster of unknown size ends.
const SEGMENT_CHILDREN: [u64; 8] = [
    0x114D_9B74, // SeekHead
    INFO,
    TRACKS,
    CLUSTER,
    0x1C53_BB6B, // Cues
    0x1043_A770, // Chapters
    0x1254_C367, // Tags
    0x1941_A469, // Attachments
];

/// One EBML element's header: id, where its body starts, and its size (`None`: unknown,
/// as a live stream writes it).
struct Element {
    id: u64,
    body: usize,
    size: Option<usize>,
}

fn element(b: &[u8], at: usize) -> Option<Element> {
    let (id, il) = vint(b, at, false)?;
    let (size, sl) = vint(b, at + il, true)?;
    let unknown = size == (1u64 << (7 * sl)) - 1;
    Some(Element {
        id,
        body: at + il + sl,
        size: if unknown {
            None
        } else {
            Some(usize::try_from(size).ok()?)
        },
    })
}

fn webm_duration(b: &[u8]) -> Result<u64, String> {
    let bad = || "The WebM file is damaged: its structure cannot be read.".to_string();
    let cut = || "The WebM file is cut short: upload the whole file.".to_string();
    // The EBML header, then the Segment; both must fit in the file.
    let header = element(b, 0).filter(|e| e.id == EBML).ok_or_else(bad)?;
    let header_end = header
        .size
        .and_then(|s| header.body.checked_add(s))
        .ok_or_else(bad)?;
    let header_body = b.get(header.body..header_end).ok_or_else(cut)?;
    let mut doc_type_ok = false;
    walk_known(header_body, |id, data| {
        if id == DOC_TYPE {
            let t = String::from_utf8_lossy(data);
            let t = t.trim_end_matches('\0');
            doc_type_ok = t == "webm" || t == "matroska";
        }
    })
    .ok_or_else(bad)?;
    if !doc_type_ok {
        return Err("This is not a WebM or Matroska video.".into());
    }
    let segment = element(b, header_end)
        .filter(|e| e.id == SEGMENT)
        .ok_or_else(cut)?;
    let end = match segment.size {
        Some(s) => {
            let end = segment.body.checked_add(s).ok_or_else(bad)?;
            if end > b.len() {
                return Err(cut());
            }
            end
        }
        None => b.len(),
    };
    let mut scale: u64 = 1_000_000;
    let mut duration: Option<f64> = None;
    let (mut tracks, mut clusters) = (false, 0usize);
    let mut at = segment.body;
    while at < end {
        let e = element(b, at).ok_or_else(cut)?;
        let next = match e.size {
            Some(s) => {
                let next = e.body.checked_add(s).ok_or_else(bad)?;
                if next > end {
                    return Err(cut());
                }
                next
            }
            // Only a Cluster may be of unknown size: it runs to the next Segment child.
            None if e.id == CLUSTER => cluster_end(b, e.body, end).ok_or_else(cut)?,
            None => return Err(bad()),
        };
        match e.id {
            INFO => {
                walk_known(&b[e.body..next], |id, data| match (id, data.len()) {
                    (TIMECODE_SCALE, 1..=8) => {
                        scale = data.iter().fold(0u64, |v, x| (v << 8) | u64::from(*x));
                    }
                    (DURATION, 4) => {
                        duration = Some(f64::from(f32::from_be_bytes([
                            data[0], data[1], data[2], data[3],
                        ])));
                    }
                    (DURATION, 8) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(data);
                        duration = Some(f64::from_be_bytes(a));
                    }
                    _ => {}
                })
                .ok_or_else(bad)?;
            }
            TRACKS => tracks = true,
            CLUSTER => clusters += 1,
            _ => {}
        }
        at = next;
    }
    let d = duration.ok_or_else(|| {
        "The WebM file does not say how long it is (a live recording?); export it again with its duration.".to_string()
    })?;
    if !tracks || clusters == 0 {
        return Err("The WebM file holds no video frames.".into());
    }
    let ms = d * scale as f64 / 1_000_000.0;
    if !ms.is_finite() || ms <= 0.0 || ms > MAX_MS as f64 {
        return Err(bad());
    }
    Ok(ms.round() as u64)
}

/// Walks elements of known size that fill `b` exactly, handing each one's id and body.
fn walk_known(b: &[u8], mut each: impl FnMut(u64, &[u8])) -> Option<()> {
    let mut at = 0;
    while at < b.len() {
        let e = element(b, at)?;
        let next = e.body.checked_add(e.size?)?;
        each(e.id, b.get(e.body..next)?);
        at = next;
    }
    Some(())
}

/// Where a Cluster of unknown size ends: at the next Segment child, or at `end`. Every
/// element inside it must fit.
fn cluster_end(b: &[u8], body: usize, end: usize) -> Option<usize> {
    let mut at = body;
    while at < end {
        let (id, _) = vint(b, at, false)?;
        if SEGMENT_CHILDREN.contains(&id) {
            return Some(at);
        }
        let e = element(b, at)?;
        let next = e.body.checked_add(e.size?)?;
        if next > end {
            return None;
        }
        at = next;
    }
    Some(end)
}

// ---------------------------------------------------------------- MP4 / QuickTime

/// Box types a file of the ISO/QuickTime family may begin with (QuickTime files need not
/// start with `ftyp`).
const QUICKTIME_TOP: [&[u8]; 7] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot",
];

/// One box: its type and body.
struct Mp4Box<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes that fill `b` exactly (a box of size 0 runs to the end), or why not: `Err(true)`
/// when one runs past the end (cut short), `Err(false)` when a header is unreadable.
fn boxes(b: &[u8]) -> Result<Vec<Mp4Box<'_>>, bool> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let head = b.get(at..at + 8).ok_or(true)?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        let (header, size) = match size32 {
            0 => (8, b.len() - at),
            1 => {
                let large = b.get(at + 8..at + 16).ok_or(true)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(large);
                (
                    16,
                    usize::try_from(u64::from_be_bytes(a)).map_err(|_| true)?,
                )
            }
            s => (8, usize::try_from(s).map_err(|_| false)?),
        };
        if size < header {
            return Err(false);
        }
        let next = at.checked_add(size).ok_or(true)?;
        if next > b.len() {
            return Err(true);
        }
        out.push(Mp4Box {
            kind,
            body: &b[at + header..next],
        });
        at = next;
    }
    Ok(out)
}

fn find<'a>(list: &'a [Mp4Box<'a>], kind: &[u8; 4]) -> Option<&'a Mp4Box<'a>> {
    list.iter().find(|x| &x.kind == kind)
}

fn be_u32(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 4)?;
    Some(u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(at..at + 8)?);
    Some(u64::from_be_bytes(a))
}

fn mp4_duration(b: &[u8]) -> Result<u64, String> {
    let bad = || "The MP4 file is damaged: its structure cannot be read.".to_string();
    let cut = || "The MP4 file is cut short: upload the whole file.".to_string();
    let why = |short: bool| if short { cut() } else { bad() };
    let top = boxes(b).map_err(why)?;
    let moov = find(&top, b"moov")
        .ok_or_else(|| "The MP4 file has no movie header; export it again.".to_string())?;
    if find(&top, b"mdat").is_none() {
        return Err("The MP4 file holds no video frames.".into());
    }
    let inner = boxes(moov.body).map_err(|_| bad())?;
    let mvhd = find(&inner, b"mvhd").ok_or_else(bad)?.body;
    let (timescale, duration, unknown) = match mvhd.first() {
        Some(1) => (
            be_u32(mvhd, 20).ok_or_else(bad)?,
            be_u64(mvhd, 24).ok_or_else(bad)?,
            u64::MAX,
        ),
        Some(0) => (
            be_u32(mvhd, 12).ok_or_else(bad)?,
            be_u32(mvhd, 16).ok_or_else(bad)?,
            u64::from(u32::MAX),
        ),
        _ => return Err(bad()),
    };
    // A fragmented file may leave the movie's duration empty and give the fragments' in
    // mvex/mehd, in the same timescale.
    let duration = if duration == 0 || duration == unknown {
        let mvex = find(&inner, b"mvex").map(|m| boxes(m.body).map_err(|_| bad()));
        let mehd = match mvex {
            Some(list) => list?
                .iter()
                .find(|x| &x.kind == b"mehd")
                .map(|x| x.body.to_vec()),
            None => None,
        };
        match mehd.as_deref() {
            Some(m) if m.first() == Some(&1) => be_u64(m, 4).ok_or_else(bad)?,
            Some(m) if m.first() == Some(&0) => be_u32(m, 4).ok_or_else(bad)?,
            _ => 0,
        }
    } else {
        duration
    };
    if duration == 0 {
        return Err(
            "The MP4 file does not say how long it is; export it again with its duration.".into(),
        );
    }
    if timescale == 0 {
        return Err(bad());
    }
    let ms = u128::from(duration) * 1000 / u128::from(timescale);
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms > 0 && *ms <= MAX_MS)
        .ok_or_else(bad)
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

/// Whether a block's first line names it: `NOTE`, `STYLE` or `REGION` alone, or followed by
/// a space or a tab.
fn block_named(line: &str, name: &str) -> bool {
    line.strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn percent(v: &str) -> bool {
    v.strip_suffix('%')
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|n| (0.0..=100.0).contains(&n) && !v.starts_with(['+', '-']))
}

/// Why a cue setting is not valid, if it is not.
fn cue_setting_problem(setting: &str, regions: &[String]) -> Option<String> {
    let Some((name, value)) = setting.split_once(':') else {
        return Some(format!(
            "The cue setting \"{setting}\" is not valid; write settings as name:value"
        ));
    };
    let ok = match name {
        "vertical" => matches!(value, "rl" | "lr"),
        "line" => {
            let (at, align) = value.split_once(',').unwrap_or((value, "start"));
            matches!(align, "start" | "center" | "end")
                && (percent(at) || at.parse::<i64>().is_ok())
        }
        "position" => {
            let (at, align) = value.split_once(',').unwrap_or((value, "center"));
            matches!(align, "line-left" | "center" | "line-right") && percent(at)
        }
        "size" => percent(value),
        "align" => matches!(value, "start" | "center" | "end" | "left" | "right"),
        "region" => {
            if regions.iter().any(|r| r == value) {
                true
            } else {
                return Some(format!(
                    "The cue names the region \"{value}\", which no REGION block defines"
                ));
            }
        }
        _ => {
            return Some(format!(
                "\"{name}\" is not a cue setting (vertical, line, position, size, align, region)"
            ))
        }
    };
    if ok {
        None
    } else {
        Some(format!(
            "The cue setting \"{setting}\" has a value WebVTT does not allow"
        ))
    }
}

/// Checks a WebVTT file: the `WEBVTT` header, blocks separated by blank lines (line ends
/// LF, CRLF or CR), `STYLE` and `REGION` blocks before the first cue, `NOTE` comments, each
/// cue's timing (`00:01.000 --> 00:04.000`, start before end, starts in order) with its
/// settings, and its text, in which `-->` may not appear.
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
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    match lines.first() {
        Some(first) if block_named(first, "WEBVTT") => {}
        _ => {
            push(1, "A captions file starts with the line WEBVTT");
            return Err(problems);
        }
    }
    let mut cues = 0;
    let mut last_start = 0;
    let mut last_end = 0;
    let mut regions: Vec<String> = Vec::new();
    let mut i = 1;
    // The header block runs to the first blank line.
    while i < lines.len() && !lines[i].trim().is_empty() {
        if lines[i].contains("-->") {
            push(
                i + 1,
                "A blank line must follow the WEBVTT line before the first cue",
            );
        }
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
        let arrow_after = |from: usize| {
            block
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, l)| l.contains("-->"))
                .map(|(k, _)| start_line + k + 1)
        };
        if block_named(first, "NOTE") {
            if let Some(line) = arrow_after(0) {
                push(
                    line,
                    "A NOTE may not hold -->; put a blank line before the cue",
                );
            }
            continue;
        }
        if block_named(first, "STYLE") || block_named(first, "REGION") {
            let name = if first.starts_with("STYLE") {
                "STYLE"
            } else {
                "REGION"
            };
            if cues > 0 {
                push(
                    start_line + 1,
                    &format!("{name} blocks must come before the first cue"),
                );
            }
            if let Some(line) = arrow_after(1) {
                push(line, &format!("A {name} block may not hold -->"));
            }
            if name == "REGION" {
                for l in &block[1..] {
                    for setting in l.split_whitespace() {
                        if let Some(id) = setting.strip_prefix("id:") {
                            regions.push(id.to_string());
                        }
                    }
                }
            }
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
        let (left, right) = timing.split_once("-->").unwrap_or((timing, ""));
        let spaced = left.ends_with([' ', '\t']) && right.starts_with([' ', '\t']);
        let start = timestamp(left.trim());
        let mut rest = right.split_whitespace();
        let end = rest.next().and_then(timestamp);
        match (start, end) {
            (Some(s), Some(e)) if spaced => {
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
        for setting in rest {
            if let Some(m) = cue_setting_problem(setting, &regions) {
                push(line_no, &m);
            }
        }
        if block.len() <= timing_at + 1 {
            push(line_no, "A cue needs text after its timing line");
        }
        if let Some(line) = arrow_after(timing_at + 1) {
            push(
                line,
                "A cue's text may not hold -->: put a blank line before the next cue",
            );
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
    fn every_curriculum_video_and_captions_file_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/curriculum");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let Ok(files) = std::fs::read_dir(entry.unwrap().path().join("media")) else {
                continue;
            };
            for f in files {
                let p = f.unwrap().path();
                let bytes = std::fs::read(&p).unwrap();
                match p.extension().and_then(|e| e.to_str()) {
                    Some("webm") => assert!(video_duration_ms(&bytes).is_ok(), "{p:?}"),
                    Some("vtt") => assert!(
                        validate_webvtt(&String::from_utf8(bytes).unwrap()).is_ok(),
                        "{p:?}"
                    ),
                    _ => continue,
                }
                seen += 1;
            }
        }
        assert!(seen >= 4, "{seen}");
    }

    #[test]
    fn a_webm_says_how_long_it_is() {
        let ms = video_duration_ms(&curriculum_video()).unwrap();
        assert!((10_000..=30_000).contains(&ms), "{ms}");
    }

    #[test]
    fn a_webm_cut_short_anywhere_is_refused() {
        let whole = curriculum_video();
        let step = (whole.len() / 97).max(1);
        for len in (0..whole.len()).step_by(step) {
            assert!(
                video_duration_ms(&whole[..len]).is_err(),
                "accepted a file cut at {len} of {}",
                whole.len()
            );
        }
    }

    /// An EBML element with a one-byte... eight-byte size.
    fn ebml(id: u64, body: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = id
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        v.push(0x01);
        v.extend((body.len() as u64).to_be_bytes()[1..].iter());
        v.extend(body);
        v
    }

    fn webm(duration: Option<f64>, live: bool, frames: bool) -> Vec<u8> {
        let mut f = ebml(EBML, &ebml(DOC_TYPE, b"webm"));
        let mut info = ebml(TIMECODE_SCALE, &[0x0F, 0x42, 0x40]);
        if let Some(d) = duration {
            info.extend(ebml(DURATION, &d.to_be_bytes()));
        }
        let mut seg = ebml(INFO, &info);
        seg.extend(ebml(TRACKS, &ebml(0xAE, &[0u8; 4])));
        if frames {
            let blocks = [ebml(0xE7, &[0]), ebml(0xA3, &[0x81, 0, 0, 0x80, 1, 2])].concat();
            if live {
                // A Cluster of unknown size, as a live recorder writes it.
                seg.extend([0x1F, 0x43, 0xB6, 0x75, 0xFF]);
                seg.extend(&blocks);
                seg.extend([0x1F, 0x43, 0xB6, 0x75, 0xFF]);
                seg.extend(&blocks);
            } else {
                seg.extend(ebml(CLUSTER, &blocks));
            }
        }
        if live {
            f.extend([
                0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ]);
            f.extend(seg);
        } else {
            f.extend(ebml(SEGMENT, &seg));
        }
        f
    }

    #[test]
    fn a_webm_needs_its_duration_and_its_frames() {
        assert_eq!(
            video_duration_ms(&webm(Some(12_500.0), false, true)),
            Ok(12_500)
        );
        // Unknown sizes are read through when the duration is there.
        assert_eq!(
            video_duration_ms(&webm(Some(3_000.0), true, true)),
            Ok(3_000)
        );
        let live = video_duration_ms(&webm(None, true, true)).unwrap_err();
        assert!(live.contains("does not say how long"), "{live}");
        let empty = video_duration_ms(&webm(Some(1_000.0), false, false)).unwrap_err();
        assert!(empty.contains("no video frames"), "{empty}");
        let mut other = webm(Some(1_000.0), false, true);
        other[7..11].copy_from_slice(b"xxxx");
        assert!(video_duration_ms(&other).is_err());
        let mut cut = webm(Some(1_000.0), true, true);
        cut.truncate(cut.len() - 2);
        assert!(video_duration_ms(&cut).unwrap_err().contains("cut short"));
    }

    fn boxed(name: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend(name);
        v.extend(body);
        v
    }

    fn mvhd(version: u8, timescale: u32, duration: u64) -> Vec<u8> {
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
        boxed(b"mvhd", &mvhd)
    }

    #[test]
    fn quicktime_large_and_open_ended_boxes_and_fragments_are_read() {
        // QuickTime without ftyp: wide, mdat, moov.
        let mut qt = boxed(b"wide", &[]);
        qt.extend(boxed(b"mdat", &[7u8; 32]));
        qt.extend(boxed(b"moov", &mvhd(0, 600, 600 * 9)));
        assert_eq!(video_duration_ms(&qt), Ok(9_000));
        // A 64-bit box size, and a last box of size 0 (to the end of the file).
        let mut large = boxed(b"ftyp", b"isom\0\0\0\x01");
        large.extend(boxed(b"moov", &mvhd(0, 1000, 4_000)));
        large.extend(1u32.to_be_bytes());
        large.extend(b"mdat");
        large.extend((16u64 + 10).to_be_bytes());
        large.extend([0u8; 10]);
        large.extend(0u32.to_be_bytes());
        large.extend(b"mdat");
        large.extend([1u8; 20]);
        assert_eq!(video_duration_ms(&large), Ok(4_000));
        // A 64-bit size running past the end is a file cut short.
        let mut past = large.clone();
        let at = past.len() - 20 - 8 - 10 - 16 + 8;
        past[at..at + 8].copy_from_slice(&1_000u64.to_be_bytes());
        assert!(video_duration_ms(&past).unwrap_err().contains("cut short"));
        // Fragmented: the movie's duration is empty, mvex/mehd holds it.
        for (version, mehd) in [
            (
                0u8,
                [vec![0u8, 0, 0, 0], 30_000u32.to_be_bytes().to_vec()].concat(),
            ),
            (
                1u8,
                [vec![1u8, 0, 0, 0], 30_000u64.to_be_bytes().to_vec()].concat(),
            ),
        ] {
            let moov = [
                mvhd(version, 1000, 0),
                boxed(
                    b"mvex",
                    &[boxed(b"mehd", &mehd), boxed(b"trex", &[0u8; 24])].concat(),
                ),
            ]
            .concat();
            let mut frag = boxed(b"ftyp", b"iso6\0\0\0\x01");
            frag.extend(boxed(b"moov", &moov));
            frag.extend(boxed(b"moof", &[0u8; 16]));
            frag.extend(boxed(b"mdat", &[0u8; 16]));
            assert_eq!(
                video_duration_ms(&frag),
                Ok(30_000),
                "mehd version {version}"
            );
        }
        // Fragmented without mehd: no length to read.
        let mut bare = boxed(b"ftyp", b"iso6\0\0\0\x01");
        bare.extend(boxed(
            b"moov",
            &[mvhd(0, 1000, 0), boxed(b"mvex", &[])].concat(),
        ));
        bare.extend(boxed(b"mdat", &[0u8; 16]));
        assert!(video_duration_ms(&bare).unwrap_err().contains("how long"));
        // A movie header and no frames.
        let mut no_frames = boxed(b"ftyp", b"isom\0\0\0\x01");
        no_frames.extend(boxed(b"moov", &mvhd(0, 1000, 4_000)));
        assert!(video_duration_ms(&no_frames)
            .unwrap_err()
            .contains("no video frames"));
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

    fn lines_of(text: &str) -> Vec<(usize, String)> {
        validate_webvtt(text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    #[test]
    fn webvtt_line_ends_notes_styles_regions_and_settings() {
        let cue = "00:00.000 --> 00:01.000\nx";
        // CRLF and lone CR line ends.
        for sep in ["\r\n", "\r"] {
            let text = format!(
                "WEBVTT{sep}{sep}{}{sep}{sep}00:02.000 --> 00:03.000{sep}y{sep}",
                cue.replace('\n', sep)
            );
            assert_eq!(validate_webvtt(&text).map(|v| v.cues), Ok(2), "{sep:?}");
        }
        // NOTE alone on its line, NOTE with text, and a word that only starts with NOTE.
        let notes = format!("WEBVTT\n\nNOTE\nmany lines\nof comment\n\nNOTE one line\n\n{cue}\n");
        assert_eq!(validate_webvtt(&notes).map(|v| v.cues), Ok(1));
        let notebook = lines_of("WEBVTT\n\nNOTEBOOK\n\n00:00.000 --> 00:01.000\nx\n");
        assert_eq!(notebook[0].0, 3, "{notebook:?}");
        let arrow_note = lines_of(&format!("WEBVTT\n\nNOTE a --> b\n\n{cue}\n"));
        assert!(arrow_note[0].1.contains("NOTE"), "{arrow_note:?}");
        // STYLE and REGION before the first cue, and a cue naming a region.
        let styled = "WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nREGION\nid:low width:40% lines:3\n\n00:00.000 --> 00:01.000 region:low align:left line:90%,end position:10%,line-left size:50% vertical:rl\nx\n";
        assert_eq!(validate_webvtt(styled).map(|v| v.cues), Ok(1));
        let late = lines_of(&format!(
            "WEBVTT\n\n{cue}\n\nSTYLE\n::cue {{}}\n\nREGION\nid:r\n"
        ));
        assert_eq!(late.len(), 2, "{late:?}");
        assert_eq!((late[0].0, late[1].0), (6, 9));
        assert!(late[0].1.contains("before the first cue"));
        // Settings WebVTT does not know, or values it does not allow.
        let settings = lines_of("WEBVTT\n\n00:00.000 --> 00:01.000 colour:red align:middle size:150% region:nowhere line\nx\n");
        assert_eq!(settings.len(), 5, "{settings:?}");
        assert!(settings.iter().all(|(line, _)| *line == 3));
        // A missing blank line: the next timing line is inside the cue's text.
        let joined = lines_of("WEBVTT\n\n00:00.000 --> 00:01.000\nx\n00:01.000 --> 00:02.000\ny\n");
        assert_eq!(joined.len(), 1, "{joined:?}");
        assert_eq!(joined[0].0, 5);
        assert!(joined[0].1.contains("blank line"));
        // The arrow needs a space on each side.
        assert_eq!(lines_of("WEBVTT\n\n00:00.000-->00:01.000\nx\n").len(), 1);
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

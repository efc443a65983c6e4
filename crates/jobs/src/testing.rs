//! Test support: a real, minimal SMTP server, and a small MIME reader to check what it got.
//!
//! This module is for tests (of this crate and of others, such as the web crate); it is
//! always compiled so that no feature flag is needed, and production code does not use it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use onramp_jobs::testing::TestSmtpServer;
//! use std::time::Duration;
//! let server = TestSmtpServer::start().await?;
//! let config = server.smtp_config("Onramp <onramp@example.org>");
//! // … build a Mailer from `config`, send mail …
//! let got = server.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(got.len(), 1);
//! assert_eq!(got[0].subject().as_deref(), Some("Hello"));
//! println!("{}", got[0].text().unwrap_or_default());
//! server.stop().await; // connections are now refused
//! server.restart().await?; // same port again
//! # Ok(()) }
//! ```
//!
//! The server speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET,
//! NOOP, VRFY, AUTH PLAIN/LOGIN (any credentials are accepted) and QUIT, without TLS.

use crate::mailer::{SmtpConfig, TlsMode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as sent after `DATA`: dot-unstuffed, CRLF line ends, without the
    /// terminating `.` line.
    pub data: String,
    /// The user name given with `AUTH` on this connection, if any (any password is accepted).
    pub authenticated_as: Option<String>,
}

impl ReceivedMessage {
    /// The message's headers and decoded parts.
    pub fn parsed(&self) -> ParsedEmail {
        ParsedEmail::parse(&self.data)
    }

    /// A header's value (unfolded, encoded words decoded); the first if repeated.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header(name).map(str::to_string)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The decoded `text/plain` body (LF line ends).
    pub fn text(&self) -> Option<String> {
        self.parsed().text().map(str::to_string)
    }

    /// The decoded `text/html` body (LF line ends).
    pub fn html(&self) -> Option<String> {
        self.parsed().html().map(str::to_string)
    }
}

struct Shared {
    messages: Mutex<Vec<ReceivedMessage>>,
    count: watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A real SMTP server on 127.0.0.1 that keeps what it receives in memory.
///
/// Dropping it stops it.
pub struct TestSmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: Mutex<Option<JoinHandle<()>>>,
}

impl TestSmtpServer {
    /// Starts listening on `127.0.0.1` on a free port. Needs a running tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self {
            addr,
            shared,
            accept_task: Mutex::new(Some(task)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// SMTP settings that deliver to this server: no TLS, no credentials, 5 s timeout.
    pub fn smtp_config(&self, from: &str) -> SmtpConfig {
        SmtpConfig {
            host: self.host(),
            port: self.port(),
            username: None,
            password: None,
            tls: TlsMode::None,
            from: from.to_string(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        lock(&self.shared.messages).clone()
    }

    /// Forgets the messages received so far.
    pub fn clear(&self) {
        lock(&self.shared.messages).clear();
        self.shared.count.send_replace(0);
    }

    /// Waits until at least `n` messages have arrived or `timeout` passes, and returns
    /// what has arrived by then (check its length).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let mut rx = self.shared.count.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|c| *c >= n)).await;
        self.received()
    }

    pub fn is_running(&self) -> bool {
        lock(&self.accept_task).is_some()
    }

    /// Closes the listener and every open connection: from now on connections are refused.
    /// Received messages are kept.
    pub async fn stop(&self) {
        let task = lock(&self.accept_task).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port (a no-op if running).
    pub async fn restart(&self) -> std::io::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let task = tokio::spawn(accept_loop(listener, self.shared.clone()));
        let mut slot = lock(&self.accept_task);
        if let Some(old) = slot.replace(task) {
            old.abort();
        }
        Ok(())
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.accept_task).take() {
            task.abort();
        }
    }
}

/// Accepts connections until aborted; aborting it drops the listener and, with the
/// `JoinSet`, every connection.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, shared.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = session(stream, &shared).await;
}

const HOST: &str = "127.0.0.1";

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut w) = stream.into_split();
    let mut r = BufReader::new(read);
    w.write_all(format!("220 {HOST} ESMTP onramp-test\r\n").as_bytes())
        .await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut authenticated_as: Option<String> = None;
    loop {
        let Some(line) = read_line(&mut r).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        let reply: String = match verb {
            "EHLO" => format!("250-{HOST} greets you\r\n250-8BITMIME\r\n250-SIZE 52428800\r\n250 AUTH PLAIN LOGIN\r\n"),
            "HELO" => format!("250 {HOST}\r\n"),
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                mail_from = Some(path_of(&line["MAIL FROM:".len()..]));
                rcpt_to.clear();
                "250 2.1.0 OK\r\n".into()
            }
            "RCPT" if upper.starts_with("RCPT TO:") => {
                if mail_from.is_none() {
                    "503 5.5.1 MAIL first\r\n".into()
                } else {
                    rcpt_to.push(path_of(&line["RCPT TO:".len()..]));
                    "250 2.1.5 OK\r\n".into()
                }
            }
            "DATA" => match (&mail_from, rcpt_to.is_empty()) {
                (Some(from), false) => {
                    w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                    let Some(data) = read_data(&mut r).await? else {
                        return Ok(());
                    };
                    let n = {
                        let mut messages = lock(&shared.messages);
                        messages.push(ReceivedMessage {
                            mail_from: from.clone(),
                            rcpt_to: std::mem::take(&mut rcpt_to),
                            authenticated_as: authenticated_as.clone(),
                            data,
                        });
                        messages.len()
                    };
                    shared.count.send_replace(n);
                    mail_from = None;
                    format!("250 2.0.0 OK queued as {n}\r\n")
                }
                _ => "503 5.5.1 MAIL and RCPT first\r\n".into(),
            },
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "VRFY" => "252 2.5.2 Cannot VRFY user\r\n".into(),
            "AUTH" => {
                let args: Vec<&str> = line.split_whitespace().skip(1).collect();
                let mechanism = args.first().map(|m| m.to_ascii_uppercase());
                let user = match (mechanism.as_deref(), args.get(1)) {
                    (Some("PLAIN"), initial) => {
                        let response = match initial {
                            Some(r) => Some(r.to_string()),
                            None => {
                                w.write_all(b"334 \r\n").await?;
                                read_line(&mut r).await?
                            }
                        };
                        let Some(response) = response else {
                            return Ok(());
                        };
                        // authzid NUL authcid NUL password
                        let decoded = base64_decode(&response);
                        let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                        Some(String::from_utf8_lossy(fields.get(1).copied().unwrap_or_default()).into_owned())
                    }
                    (Some("LOGIN"), initial) => {
                        let name = match initial {
                            Some(n) => Some(n.to_string()),
                            None => {
                                w.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                                read_line(&mut r).await?
                            }
                        };
                        let Some(name) = name else {
                            return Ok(());
                        };
                        w.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        if read_line(&mut r).await?.is_none() {
                            return Ok(());
                        }
                        Some(String::from_utf8_lossy(&base64_decode(&name)).into_owned())
                    }
                    _ => None,
                };
                match user {
                    Some(u) => {
                        authenticated_as = Some(u);
                        "235 2.7.0 Authentication successful\r\n".into()
                    }
                    None => "504 5.5.4 Unrecognized authentication type\r\n".into(),
                }
            }
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                w.shutdown().await?;
                return Ok(());
            }
            _ => "500 5.5.2 Command not recognized\r\n".into(),
        };
        w.write_all(reply.as_bytes()).await?;
    }
}

/// One command line without its line end; None at end of stream.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if r.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    let s = String::from_utf8_lossy(&buf);
    Ok(Some(s.trim_end_matches(['\r', '\n']).to_string()))
}

/// The DATA section up to the lone `.`, dot-unstuffed, with CRLF line ends.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).await? == 0 {
            return Ok(None);
        }
        let mut line: &[u8] = &buf;
        while let Some((last, rest)) = line.split_last() {
            if *last == b'\n' || *last == b'\r' {
                line = rest;
            } else {
                break;
            }
        }
        if line == b"." {
            return Ok(Some(String::from_utf8_lossy(&data).into_owned()));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(line);
        data.extend_from_slice(unstuffed);
        data.extend_from_slice(b"\r\n");
    }
}

/// `<a@b.org> SIZE=1` → `a@b.org`.
fn path_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(s), Some(e)) if s < e => arg[s + 1..e].to_string(),
        _ => arg.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// One leaf part of a MIME message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimePart {
    /// Lower-case media type, such as `text/plain`.
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    /// The body, transfer-decoded (base64, quoted-printable) as UTF-8, with LF line ends.
    pub body: String,
}

/// A message read back: its headers and its leaf parts (multiparts flattened).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedEmail {
    /// Unfolded, with RFC 2047 encoded words decoded.
    pub headers: Vec<(String, String)>,
    pub parts: Vec<MimePart>,
}

impl ParsedEmail {
    /// Reads a raw message (`.eml` text or SMTP DATA). Lenient: never fails.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = split_head_body(&raw);
        let headers = parse_headers(head);
        let mut parts = Vec::new();
        collect_parts(&headers, body, &mut parts, 0);
        Self { headers, parts }
    }

    /// A header's value; the first if repeated. Names are case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    pub fn subject(&self) -> Option<&str> {
        self.header("Subject")
    }

    /// The first part of the given media type.
    pub fn part(&self, content_type: &str) -> Option<&MimePart> {
        self.parts
            .iter()
            .find(|p| p.content_type.eq_ignore_ascii_case(content_type))
    }

    pub fn text(&self) -> Option<&str> {
        self.part("text/plain").map(|p| p.body.as_str())
    }

    pub fn html(&self) -> Option<&str> {
        self.part("text/html").map(|p| p.body.as_str())
    }
}

fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn split_head_body(raw: &str) -> (&str, &str) {
    if let Some(rest) = raw.strip_prefix('\n') {
        return ("", rest);
    }
    match raw.find("\n\n") {
        Some(i) => (&raw[..i], &raw[i + 2..]),
        None => (raw, ""),
    }
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_string(), value.to_string()));
        }
    }
    out.into_iter()
        .map(|(n, v)| (n, decode_encoded_words(v.trim())))
        .collect()
}

/// `type/subtype; a=b; c="d"` → (`type/subtype` lower-cased, parameters with lower-case names).
fn content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let essence = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (essence, params)
}

fn collect_parts(headers: &[(String, String)], body: &str, out: &mut Vec<MimePart>, depth: usize) {
    let (essence, params) =
        content_type(header_in(headers, "Content-Type").unwrap_or("text/plain"));
    let boundary = params
        .iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v.clone());
    if let (true, Some(boundary), true) = (essence.starts_with("multipart/"), boundary, depth < 16)
    {
        let delimiter = format!("--{boundary}");
        let closing = format!("--{boundary}--");
        let mut current: Option<Vec<&str>> = None;
        for line in body.split('\n') {
            let trimmed = line.trim_end();
            if trimmed == closing || trimmed == delimiter {
                if let Some(lines) = current.take() {
                    let part = lines.join("\n");
                    let (h, b) = split_head_body(&part);
                    collect_parts(&parse_headers(h), b, out, depth + 1);
                }
                if trimmed == closing {
                    break;
                }
                current = Some(Vec::new());
            } else if let Some(lines) = current.as_mut() {
                lines.push(line);
            }
        }
        return;
    }
    let encoding = header_in(headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => quoted_printable_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    out.push(MimePart {
        content_type: if essence.is_empty() {
            "text/plain".into()
        } else {
            essence
        },
        headers: headers.to_vec(),
        body: String::from_utf8_lossy(&bytes).replace("\r\n", "\n"),
    });
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `=XX` escapes (and `_` as a space when `underscore_is_space`, for headers).
fn unescape_hex(input: &[u8], underscore_is_space: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'=' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex_value(input[i + 1]), hex_value(input[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(if underscore_is_space && b == b'_' {
            b' '
        } else {
            b
        });
        i += 1;
    }
}

fn quoted_printable_decode(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let lines: Vec<&str> = body.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches([' ', '\t', '\r']);
        match line.strip_suffix('=') {
            Some(soft) => unescape_hex(soft.as_bytes(), false, &mut out),
            None => {
                unescape_hex(line.as_bytes(), false, &mut out);
                if i + 1 < lines.len() {
                    out.push(b'\n');
                }
            }
        }
    }
    out
}

fn base64_decode(input: &str) -> Vec<u8> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in input.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?utf-8?Q?…?=`); whitespace between
/// two encoded words is dropped.
fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, after)) = encoded_word(rest) {
            if !last_was_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = after;
            last_was_word = true;
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        rest = chars.as_str();
        if c.is_whitespace() {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            last_was_word = false;
        }
    }
    out.push_str(&pending_space);
    out
}

/// An encoded word at the start of `s`: its text, and what follows it.
fn encoded_word(s: &str) -> Option<(String, &str)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64_decode(text),
        "Q" | "q" => {
            let mut out = Vec::new();
            unescape_hex(text.as_bytes(), true, &mut out);
            out
        }
        _ => return None,
    };
    Some((
        String::from_utf8_lossy(&bytes).into_owned(),
        &inner[end + 2..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_transfer_encodings_and_headers() {
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ="), b"hello world");
        assert_eq!(
            quoted_printable_decode("caf=C3=A9 long=\nline\nnext"),
            "café longline\nnext".as_bytes()
        );
        assert_eq!(
            decode_encoded_words("=?utf-8?b?Q2Fmw6k=?= =?utf-8?q?_au_lait?= ok"),
            "Café au lait ok"
        );
        assert_eq!(path_of("<a@b.org> BODY=8BITMIME"), "a@b.org");
        assert_eq!(path_of(" a@b.org"), "a@b.org");
    }

    #[test]
    fn parses_multipart_alternative() {
        let raw = "Subject: =?utf-8?q?Hi?=\r\nContent-Type: multipart/alternative;\r\n boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello=\r\n there\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+SGk8L3A+\r\n--XX--\r\n";
        let p = ParsedEmail::parse(raw);
        assert_eq!(p.subject(), Some("Hi"));
        assert_eq!(p.text(), Some("Hello there"));
        assert_eq!(p.html(), Some("<p>Hi</p>"));
    }
}

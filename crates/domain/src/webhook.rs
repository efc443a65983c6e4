//! Where a webhook may be delivered, and how a delivery is signed.
//!
//! A webhook address is typed by a Lead admin, so Onramp must not become a way to reach
//! what only the server can reach: loopback, private networks, link-local addresses (where
//! cloud metadata services answer), and other special ranges are refused unless the
//! operator names the host in an allow list. The check applies to every address a name
//! resolves to, at delivery time.
//!
//! Each delivery is signed over a timestamp and the body:
//! `X-Onramp-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The implementation setting that holds the webhook's shared secret.
pub const SECRET_SETTING: &str = "webhook_secret";

/// The operator setting naming hosts that may receive webhooks although they are
/// loopback, private or otherwise refused.
pub const ALLOW_HOSTS_SETTING: &str = "ONRAMP_WEBHOOK_ALLOW_HOSTS";

/// Why an address may not receive a webhook, or `None` when it may.
pub fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "a cloud metadata address",
        _ if ip.is_unspecified() || a == 0 => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        _ if ip.is_link_local() => "a link-local address",
        (100, 64..=127, _) => "a carrier-grade NAT address",
        _ if ip.is_broadcast() => "the broadcast address",
        _ if ip.is_multicast() => "a multicast address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // An IPv4 address carried in IPv6 is judged as itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address too.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return refused_v4(Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7])));
    }
    if s[0] == 0x2002 {
        if let Some(why) = refused_v4(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]))) {
            return Some(why);
        }
    }
    Some(match s[0] {
        _ if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) => "a cloud metadata address",
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        x if x & 0xfe00 == 0xfc00 => "a unique-local (private) address",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local (private) address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        // Only 2000::/3 is global unicast; the rest (the old IPv4-compatible ::/96
        // included) is reserved.
        x if !(0x2000..0x4000).contains(&x) => "a reserved address",
        _ => return None,
    })
}

/// Hosts the operator allows although their addresses would be refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// From a comma- or space-separated list such as `hooks.internal,127.0.0.1`.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(|c: char| c == ',' || c.is_whitespace())
                .map(normalise_host)
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `host`, as written in the webhook address, is on the list. A name is
    /// matched as a name (allowing `127.0.0.1` does not allow `localhost`).
    pub fn allows(&self, host: &str) -> bool {
        let host = normalise_host(host);
        let ip = host.parse::<IpAddr>().ok();
        self.0.iter().any(|h| match (ip, h.parse::<IpAddr>()) {
            (Some(a), Ok(b)) => a == b,
            _ => *h == host,
        })
    }
}

fn normalise_host(h: &str) -> String {
    h.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Checks the host of a webhook address as written, before any name is resolved: an IP
/// address is judged now; a name passes, to be judged on its addresses by
/// [`check_resolved`]. `Err` says why.
pub fn check_host(host: &str, allowed: &AllowedHosts) -> Result<(), String> {
    if allowed.allows(host) {
        return Ok(());
    }
    let h = normalise_host(host);
    if let Ok(ip) = h.parse::<IpAddr>() {
        return match refused_address(ip) {
            Some(why) => Err(format!("{ip} is {why}")),
            None => Ok(()),
        };
    }
    // Names (`localhost` too) are judged on what they resolve to.
    Ok(())
}

/// Checks every address `host` resolved to; `Err` names the first refused one.
pub fn check_resolved(
    host: &str,
    addresses: &[IpAddr],
    allowed: &AllowedHosts,
) -> Result<(), String> {
    if allowed.allows(host) {
        return Ok(());
    }
    for ip in addresses {
        if let Some(why) = refused_address(*ip) {
            return Err(format!("{host} resolves to {ip}, which is {why}"));
        }
    }
    Ok(())
}

/// The `X-Onramp-Signature` value of a delivery of `body` at `unix_time`:
/// `t=<unix_time>,v1=<hex HMAC-SHA256 under secret of "<unix_time>.<body>">`.
pub fn signature_header(secret: &str, unix_time: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(unix_time.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={unix_time},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        refused_address(s.parse().unwrap()).is_some()
    }

    #[test]
    fn special_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(refused(a), "{a} should be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(a), "{a} should be allowed");
        }
    }

    #[test]
    fn named_hosts_can_be_allowed_by_the_operator() {
        let allowed = AllowedHosts::parse("hooks.internal, 127.0.0.1 [::1]");
        assert!(check_host("127.0.0.1", &allowed).is_ok());
        assert!(check_host("[::1]", &allowed).is_ok());
        assert!(check_host("HOOKS.internal.", &allowed).is_ok());
        assert!(check_resolved("hooks.internal", &["10.0.0.5".parse().unwrap()], &allowed).is_ok());
        // An allowed address does not allow a name that resolves to it.
        assert!(check_resolved("localhost", &["127.0.0.1".parse().unwrap()], &allowed).is_err());
        let e = check_resolved(
            "rebind.example.org",
            &["127.0.0.1".parse().unwrap()],
            &allowed,
        )
        .unwrap_err();
        assert!(e.contains("127.0.0.1") && e.contains("loopback"), "{e}");
        assert!(check_host("10.0.0.1", &allowed).is_err());
        assert!(check_host("hooks.example.org", &AllowedHosts::default()).is_ok());
    }

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        let h = signature_header("secret", 1_700_000_000, "{}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(h, signature_header("secret", 1_700_000_001, "{}"));
        assert_ne!(h, signature_header("secret", 1_700_000_000, "{ }"));
        assert_ne!(h, signature_header("other", 1_700_000_000, "{}"));
    }
}

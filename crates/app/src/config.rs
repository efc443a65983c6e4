//! Settings the services need.

use onramp_domain::audit::AuditKey;
use onramp_domain::password::PasswordPolicy;
use onramp_domain::webhook::AllowedHosts;
use std::net::IpAddr;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where people reach Onramp, for links in emails (no trailing slash).
    pub base_url: String,
    pub password_policy: PasswordPolicy,
    /// A session unused this long ends (HUD: 30 minutes).
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in whatever happens.
    pub session_absolute_hours: i64,
    /// When true, signing in ends the person's other sessions.
    pub single_session: bool,
    /// Consecutive wrong passwords before an account locks.
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Failed sign-ins from one address in `rate_limit_window_minutes` before it is refused.
    pub rate_limit_failures: i64,
    pub rate_limit_window_minutes: i64,
    /// Look-ups of certificate codes from one address in `rate_limit_window_minutes` before
    /// the public verification page refuses more.
    pub certificate_lookups_per_window: i64,
    pub invitation_days: i64,
    pub password_reset_minutes: i64,
    /// Argon2id cost: memory in KiB and passes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// The issuer shown in authenticator apps.
    pub mfa_issuer: String,

    // ---- audit chain and webhooks (operations)
    /// The key of the audit chain's HMAC, kept outside the database. The default is a
    /// random key for this process only: a server loads its key from the data directory
    /// or a setting, so that the chain can be verified after a restart.
    pub audit_key: AuditKey,
    /// Hosts the operator allows to receive webhooks although they are loopback, private
    /// or link-local (`ONRAMP_WEBHOOK_ALLOW_HOSTS`).
    pub webhook_allow_hosts: AllowedHosts,
    /// The bearer token that `/metrics` asks for (`ONRAMP_METRICS_TOKEN`). Without one,
    /// the main address answers `/metrics` with 404.
    pub metrics_token: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (none by default).
    pub trusted_proxies: TrustedProxies,
    /// Email goes to the embedded maildir (no SMTP server configured): the Outbox page is
    /// then where a Lead admin reads it, invitation links included (each view audited).
    pub mail_to_maildir: bool,
    /// How large each kind of upload may be.
    pub upload_limits: onramp_domain::files::UploadLimits,
    /// How strictly videos are judged watched (top speed, share that completes).
    pub video_policy: onramp_domain::learning::coverage::VideoPolicy,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            password_policy: PasswordPolicy::default(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            single_session: false,
            lockout_threshold: 5,
            lockout_minutes: 15,
            rate_limit_failures: 20,
            rate_limit_window_minutes: 15,
            certificate_lookups_per_window: 30,
            invitation_days: 7,
            password_reset_minutes: 60,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            mfa_issuer: "Onramp".into(),
            audit_key: AuditKey::from_random_bytes(rand::random()),
            webhook_allow_hosts: AllowedHosts::default(),
            metrics_token: None,
            trusted_proxies: TrustedProxies::default(),
            mail_to_maildir: true,
            upload_limits: Default::default(),
            video_policy: Default::default(),
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges.
/// Empty (the default) believes nobody, so the socket's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

/// An address and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    fn parse(s: &str) -> Option<IpRange> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let base: IpAddr = addr.parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpRange { base, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(b), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(b) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(b) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:10.0.0.1`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl TrustedProxies {
    /// Parses a list of addresses and CIDR ranges separated by commas or spaces; the error
    /// names the first entry that is neither.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut out = Vec::new();
        for entry in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            match IpRange::parse(entry) {
                Some(r) => out.push(r),
                None => {
                    return Err(format!(
                        "{entry:?} is not an IP address or a CIDR range like 10.0.0.0/8 or fd00::/8"
                    ))
                }
            }
        }
        Ok(TrustedProxies(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(ip))
    }

    /// The client's address: the socket peer, unless the peer is a trusted proxy, in which
    /// case the right-most address of `X-Forwarded-For` (all headers, in order) that is not
    /// itself a trusted proxy. An unreadable entry stops the walk at the last address known.
    pub fn client_addr<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops: Vec<&str> = forwarded_for
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, maybe bracketed or with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_list_parses_addresses_and_ranges_and_names_a_bad_entry() {
        let p = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5 ::1 fd00::/8").unwrap();
        assert!(p.trusts(ip("10.1.2.3")));
        assert!(p.trusts(ip("192.168.1.5")));
        assert!(!p.trusts(ip("192.168.1.6")));
        assert!(p.trusts(ip("::1")));
        assert!(p.trusts(ip("fd12::1")));
        assert!(p.trusts(ip("::ffff:10.9.9.9")), "IPv4-mapped IPv6");
        assert!(!p.trusts(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .trusts(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "proxy.example",
            "10.0.0/8",
            "::1/129",
            "10.0.0.1/x",
        ] {
            let e = TrustedProxies::parse(&format!("10.0.0.1, {bad}")).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = ["203.0.113.9"];
        assert_eq!(
            p.client_addr(ip("10.0.0.2"), h.into_iter()),
            ip("203.0.113.9")
        );
        assert_eq!(
            p.client_addr(ip("198.51.100.1"), h.into_iter()),
            ip("198.51.100.1"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            TrustedProxies::default().client_addr(ip("10.0.0.2"), h.into_iter()),
            ip("10.0.0.2"),
            "nobody is trusted by default"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // A client that sends its own X-Forwarded-For cannot choose its address.
        let spoofed = ["1.2.3.4, 203.0.113.9", "10.0.0.7"];
        assert_eq!(
            p.client_addr(ip("10.0.0.2"), spoofed.into_iter()),
            ip("203.0.113.9")
        );
        assert_eq!(
            p.client_addr(
                ip("10.0.0.2"),
                ["[2001:db8::1]", "203.0.113.9:4711"].into_iter()
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            p.client_addr(ip("10.0.0.2"), ["10.0.0.3, 10.0.0.4"].into_iter()),
            ip("10.0.0.3"),
            "every hop trusted: the left-most"
        );
        assert_eq!(
            p.client_addr(ip("10.0.0.2"), ["1.2.3.4, garbage"].into_iter()),
            ip("10.0.0.2"),
            "an unreadable hop stops the walk"
        );
        assert_eq!(
            p.client_addr(ip("10.0.0.2"), [].into_iter()),
            ip("10.0.0.2")
        );
    }
}

//! Requests the server makes to URLs it was given (push services; later
//! outgoing webhooks). They never reach loopback, private, link-local or
//! other non-public addresses unless the operator allowed those networks
//! (`CHATSPHERE_OUTBOUND_ALLOW`): the check is made on the addresses the
//! name resolves to, by the resolver the connection uses, so a name that
//! resolves differently the second time (DNS rebinding) gains nothing.
//! Redirects are not followed. Plain `http:` is accepted only for an
//! address literal inside an allowed network (a test's local endpoint).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a URL may not be requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// Not an absolute `https:` URL (or `http:` to an allowed address).
    #[error("the URL must be https")]
    Scheme,
    /// It names, or resolves to, an address that is not public.
    #[error("the URL's address is not public")]
    Address,
}

/// Which addresses outgoing requests may reach.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    allow: Arc<[IpNet]>,
}

impl Egress {
    /// Public addresses, and these networks besides.
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self {
            allow: allow.into(),
        }
    }

    /// Whether a request may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allowed_network(ip) || is_public(ip)
    }

    fn allowed_network(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Checks what can be checked before resolving: the scheme, and an
    /// address written in the URL.
    pub fn check(&self, url: &Url) -> Result<(), EgressError> {
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
            None => return Err(EgressError::Scheme),
        };
        match url.scheme() {
            "https" => {}
            "http" if literal.is_some_and(|ip| self.allowed_network(canonical(ip))) => {}
            _ => return Err(EgressError::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::Scheme);
        }
        match literal {
            Some(ip) if !self.permits(ip) => Err(EgressError::Address),
            _ => Ok(()),
        }
    }

    /// A client whose connections obey these rules, with a time limit per
    /// request.
    pub fn client(&self, timeout: Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(Resolver(self.clone())))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the filter.
            .no_proxy()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent("ChatSphere")
            .build()
            .unwrap_or_else(|err| {
                // Only a TLS backend that fails to start gets here.
                tracing::error!(error = %err, "outgoing HTTP client could not start; using the default");
                reqwest::Client::new()
            })
    }
}

/// Resolves names and keeps only the addresses [`Egress`] permits.
struct Resolver(Egress);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.0.clone();
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let permitted: Vec<SocketAddr> = found.filter(|a| egress.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(
                    Box::new(EgressError::Address) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether an address is on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared (carrier NAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            let [first, second, ..] = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && second == 0x0db8 // documentation
                || first == 0x2001 && second == 0 // Teredo (embeds an IPv4 address)
                || first == 0x2002 // 6to4 (embeds an IPv4 address)
                || first == 0x64 && second == 0xff9b // NAT64 of any v4
                || v6.segments()[..4] == [0, 0, 0, 0] && v6.segments()[4] == 0xffff // IPv4-translated (::ffff:0:a.b.c.d)
                || v6.to_ipv4().is_some()) // v4-compatible forms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn only_public_https_urls_pass_without_an_allowance() {
        let egress = Egress::default();
        assert_eq!(egress.check(&url("https://push.example.com/x")), Ok(()));
        assert_eq!(egress.check(&url("https://8.8.8.8/x")), Ok(()));
        for bad in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00::1]/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
            "https://192.0.0.8/",
            "https://[2002:7f00:1::]/",
            "https://[2001:0:4136:e378::1]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[fec0::1]/",
        ] {
            assert_eq!(egress.check(&url(bad)), Err(EgressError::Address), "{bad}");
        }
        for bad in [
            "http://push.example.com/x",
            "http://8.8.8.8/",
            "ftp://push.example.com/",
            "https://user:pw@push.example.com/",
        ] {
            assert_eq!(egress.check(&url(bad)), Err(EgressError::Scheme), "{bad}");
        }
    }

    #[test]
    fn an_allowed_network_may_be_reached_even_over_http() {
        let egress = Egress::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert_eq!(egress.check(&url("http://127.0.0.1:9/push")), Ok(()));
        assert_eq!(egress.check(&url("https://[::ffff:127.0.0.2]/")), Ok(()));
        assert_eq!(
            egress.check(&url("http://10.0.0.1/")),
            Err(EgressError::Scheme)
        );
        assert_eq!(
            egress.check(&url("http://localhost:9/")),
            Err(EgressError::Scheme)
        );
        assert!(!egress.permits("10.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn the_resolver_drops_what_is_not_permitted() {
        let resolver = Resolver(Egress::default());
        let name: Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
        let allowed = Resolver(Egress::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]));
        let addrs: Vec<_> = allowed
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}

//! The `http` tool: GET or POST a URL, with the guard rails an agent platform needs.
//!
//! - Only `http` and `https` URLs.
//! - With an allowlist, only the hosts on it (exact names, or `*.example.com` for
//!   subdomains); without one, any public host.
//! - Loopback, private, link-local and other non-public addresses are refused unless the host
//!   is named exactly on the allowlist. The check runs on the resolved addresses, and the
//!   connection is pinned to an address that passed it, so a DNS answer that changes between
//!   check and connect (rebinding) cannot reach an internal service. Redirects are not
//!   followed: a 3xx comes back as output for the plan to act on.
//! - A per-request timeout (default 10 s, at most the configured maximum) and a cap on the
//!   response body (default 1 MiB), read incrementally so a huge answer is never buffered.
//! - POSTs carry `Idempotency-Key: run:step:attempt`.
//!
//! Errors are typed: timeouts, connection failures, 429 and 5xx are retryable (honouring
//! `Retry-After` in seconds); policy refusals and other 4xx are permanent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use serde_json::{Map, Value, json};

use super::{Tool, ToolContext, ToolError, ToolFuture};
use crate::catalog::ToolSpec;

/// Operator settings for the `http` tool.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `None`: any public host. `Some`: only these (`*.example.com` matches subdomains).
    pub allowed_hosts: Option<Vec<String>>,
    pub default_timeout: Duration,
    pub max_timeout: Duration,
    pub max_response_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: None,
            default_timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(60),
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// The tool.
#[derive(Debug, Clone, Default)]
pub struct Http {
    pub config: HttpConfig,
}

impl Http {
    pub fn new(config: HttpConfig) -> Self {
        Self { config }
    }

    /// Checks scheme and host, resolves, and refuses non-public addresses unless allowlisted.
    /// Returns the host and the addresses the connection may use.
    async fn admit(&self, url: &url::Url) -> Result<(String, Vec<SocketAddr>), ToolError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ToolError::permanent(format!(
                "scheme '{}' is not allowed; use http or https",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| ToolError::permanent("the URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let named_exactly = self
            .config
            .allowed_hosts
            .as_ref()
            .is_some_and(|hosts| hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)));
        if let Some(hosts) = &self.config.allowed_hosts
            && !hosts.iter().any(|pattern| host_matches(pattern, &host))
        {
            return Err(ToolError::permanent(format!(
                "host '{host}' is not on the http tool's allowlist"
            )));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::lookup_host((host.as_str(), port)),
            )
            .await
            .map_err(|_| ToolError::retryable(format!("resolving '{host}' timed out")))?
            .map_err(|e| ToolError::retryable(format!("cannot resolve '{host}': {e}")))?
            .collect(),
        };
        if addrs.is_empty() {
            return Err(ToolError::retryable(format!("'{host}' has no addresses")));
        }
        if !named_exactly && let Some(blocked) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(ToolError::permanent(format!(
                "refused: '{host}' is a non-public address ({}); name the host on the http \
                 tool's allowlist to permit it",
                blocked.ip()
            )));
        }
        Ok((host, addrs))
    }

    async fn fetch(&self, ctx: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let raw_url = input["url"]
            .as_str()
            .ok_or_else(|| ToolError::permanent("input.url must be a string"))?;
        let url = url::Url::parse(raw_url)
            .map_err(|e| ToolError::permanent(format!("invalid URL '{raw_url}': {e}")))?;
        let method = input["method"].as_str().unwrap_or("GET");
        let timeout = match input["timeout_ms"].as_u64() {
            Some(ms) => Duration::from_millis(ms).min(self.config.max_timeout),
            None => self.config.default_timeout,
        };
        let (host, addrs) = self.admit(&url).await?;

        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .no_proxy();
        if host.parse::<IpAddr>().is_err() {
            client = client.resolve_to_addrs(&host, &addrs);
        }
        let client = client
            .build()
            .map_err(|e| ToolError::permanent(format!("cannot build the HTTP client: {e}")))?;
        let mut request = match method {
            "GET" => client.get(url.clone()),
            "POST" => client
                .post(url.clone())
                .header("Idempotency-Key", &ctx.idempotency_key)
                .json(&input["body"]),
            other => {
                return Err(ToolError::permanent(format!(
                    "method '{other}' is not allowed"
                )));
            }
        };
        if let Some(headers) = input["headers"].as_object() {
            for (name, value) in headers {
                if let Some(value) = value.as_str() {
                    request = request.header(name, value);
                }
            }
        }
        let shown = format!("{method} {url}");
        let exchange = async {
            let mut response = request
                .send()
                .await
                .map_err(|e| transport_error(&shown, &e, timeout))?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_error(&shown, &e, timeout))?
            {
                if body.len() + chunk.len() > self.config.max_response_bytes {
                    return Err(ToolError::permanent(format!(
                        "{shown}: response body exceeds {} bytes",
                        self.config.max_response_bytes
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, headers, body))
        };
        let (status, headers, body) = tokio::select! {
            result = exchange => result?,
            () = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
        };

        if status.as_u16() == 429 || status.is_server_error() {
            let retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(ToolError::Retryable {
                message: format!("{shown} answered {status}"),
                retry_after,
            });
        }
        if status.is_client_error() {
            return Err(ToolError::permanent(format!("{shown} answered {status}")));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = if content_type.contains("json") {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        } else {
            Value::String(String::from_utf8_lossy(&body).into_owned())
        };
        let mut shown_headers = Map::new();
        shown_headers.insert("content-type".into(), json!(content_type));
        if let Some(location) = headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
            shown_headers.insert("location".into(), json!(location));
        }
        Ok(json!({"status": status.as_u16(), "headers": shown_headers, "body": body}))
    }
}

impl Tool for Http {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "http".into(),
            description: "GET or POST a URL; returns status, headers and body (JSON when the \
                          answer is JSON)."
                .into(),
            input_schema: json!({
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "minLength": 1},
                    "method": {"enum": ["GET", "POST"]},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                },
                "additionalProperties": false
            }),
            default_risk: 0.3,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(self.fetch(ctx, input))
    }
}

fn transport_error(shown: &str, error: &reqwest::Error, timeout: Duration) -> ToolError {
    if error.is_timeout() {
        ToolError::retryable(format!(
            "{shown} timed out after {} ms",
            timeout.as_millis()
        ))
    } else {
        ToolError::retryable(format!("{shown} failed: {error}"))
    }
}

/// `pattern` is a host name, or `*.domain` for any subdomain of `domain`.
fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}")),
        None => pattern == host,
    }
}

/// True for globally routable addresses; false for loopback, private, link-local, shared,
/// documentation, benchmarking, reserved, multicast and unspecified ones.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(
                !is_public(private.parse().unwrap()),
                "{private} must not be public"
            );
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public} is public");
        }
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(host_matches("*.Example.com", "a.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "evilexample.com"));
        assert!(host_matches("example.com", "example.com"));
    }
}

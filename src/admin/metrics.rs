//! The Prometheus metrics (OPERATIONS.md), encoded by `prometheus-client` in the OpenMetrics
//! text format. Every label value comes from a bounded set: route prefixes from the config,
//! protocol and operation names from closed enums, status codes, fixed reason words. A repo
//! path, user name or token never becomes a label.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// The label value for "not known" (no route matched, refused before classification).
pub const NONE: &str = "-";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: Arc<str>,
    pub vcs: &'static str,
    pub operation: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    pub route: Arc<str>,
    pub vcs: &'static str,
    pub access: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BytesLabels {
    pub route: Arc<str>,
    pub direction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendErrorLabels {
    pub route: Arc<str>,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NoticeLabels {
    pub channel: &'static str,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 1 ms to about 66 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every metric the server keeps; shared by all workers (counters are atomics).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: HistogramFamily<DurationLabels>,
    pub bytes: Family<BytesLabels, Counter>,
    pub auth_failures: Family<ReasonLabels, Counter>,
    pub throttled: Counter,
    pub backend_errors: Family<BackendErrorLabels, Counter>,
    pub store_up: Gauge,
    pub cached_tokens: Gauge,
    pub open_connections: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub expiry_notices: Family<NoticeLabels, Counter>,
    /// Store queries made by this process's change feed (polls and catch-ups).
    pub feed_queries: Counter<u64, AtomicU64>,
    pub reloads: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration: HistogramFamily<DurationLabels> =
            Family::new_with_constructor(duration_histogram);
        let bytes = Family::<BytesLabels, Counter>::default();
        let auth_failures = Family::<ReasonLabels, Counter>::default();
        let throttled = Counter::default();
        let backend_errors = Family::<BackendErrorLabels, Counter>::default();
        let store_up = Gauge::default();
        let cached_tokens = Gauge::default();
        let open_connections = Gauge::default();
        let expiry_notices = Family::<NoticeLabels, Counter>::default();
        let feed_queries = Counter::default();
        let reloads = Family::<ReasonLabels, Counter>::default();
        // Counters get their `_total` suffix from the encoder, the info metric its `_info`.
        registry.register(
            "vcsgate_requests",
            "Requests answered, by route prefix, protocol, operation and status",
            requests.clone(),
        );
        registry.register(
            "vcsgate_request_duration_seconds",
            "Time from the request head to the response head",
            duration.clone(),
        );
        registry.register(
            "vcsgate_bytes",
            "Body bytes by route prefix and direction (in: from clients, out: to clients)",
            bytes.clone(),
        );
        registry.register(
            "vcsgate_auth_failures",
            "Refused authentications by reason",
            auth_failures.clone(),
        );
        registry.register(
            "vcsgate_throttled",
            "Requests answered 429 because their client kept failing authentication",
            throttled.clone(),
        );
        registry.register(
            "vcsgate_backend_errors",
            "Backend failures by route prefix and kind (unreachable, failed, timeout)",
            backend_errors.clone(),
        );
        registry.register(
            "vcsgate_store_up",
            "1 while the token store answers, 0 while it does not",
            store_up.clone(),
        );
        registry.register(
            "vcsgate_cached_tokens",
            "Token decisions remembered in memory",
            cached_tokens.clone(),
        );
        registry.register(
            "vcsgate_open_connections",
            "Open client connections",
            open_connections.clone(),
        );
        registry.register(
            "vcsgate_token_expiry_notices",
            "Token expiry notices by channel and outcome",
            expiry_notices.clone(),
        );
        registry.register(
            "vcsgate_store_feed_queries",
            "Queries this process made to follow the store's change feed",
            feed_queries.clone(),
        );
        registry.register(
            "vcsgate_config_reloads",
            "Configuration reloads on SIGHUP by outcome (applied, refused)",
            reloads.clone(),
        );
        registry.register(
            "vcsgate_build",
            "The running vcsgate version",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Metrics {
            registry,
            requests,
            duration,
            bytes,
            auth_failures,
            throttled,
            backend_errors,
            store_up,
            cached_tokens,
            open_connections,
            expiry_notices,
            feed_queries,
            reloads,
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Counts one connection as open until the returned guard is dropped.
    pub fn connection_opened(self: &std::sync::Arc<Self>) -> OpenConnection {
        self.open_connections.inc();
        OpenConnection {
            metrics: std::sync::Arc::clone(self),
        }
    }
}

/// One open client connection (see [`Metrics::connection_opened`]).
#[derive(Debug)]
pub struct OpenConnection {
    metrics: std::sync::Arc<Metrics>,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.metrics.open_connections.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_operations_md() {
        let metrics = Metrics::new();
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: "/git".into(),
                vcs: "git",
                operation: "upload-pack",
                status: 200,
            })
            .inc();
        metrics.throttled.inc();
        let text = metrics.encode();
        for name in [
            "vcsgate_requests_total{route=\"/git\",vcs=\"git\",operation=\"upload-pack\",status=\"200\"} 1",
            "vcsgate_throttled_total 1",
            "vcsgate_store_up 0",
            "vcsgate_cached_tokens 0",
            "vcsgate_open_connections 0",
            "vcsgate_build_info{version=\"",
            "# TYPE vcsgate_requests counter",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}

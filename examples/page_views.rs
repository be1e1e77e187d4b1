//! Page-view filtering and enrichment: a stateless, more realistic application with the
//! low-level `TopologyBuilder` and Processor API.
//!
//! `<app>-page-views` holds JSON page views keyed by user id. The topology drops bot traffic
//! and health checks, enriches each remaining view with the page's section (from its path)
//! and whether the visit came from a search engine (from the referrer), and routes it with a
//! topic-name extractor: views of `/checkout` pages go to `<app>-checkout-views`, every other
//! view to `<app>-enriched-views`. A plain consumer reads both outputs and prints them.
//!
//! Delivery guarantee: at-least-once: outputs are flushed before input offsets are committed,
//! so after a crash some enriched views may be written twice, none is lost.
//!
//! ```text
//! cargo run --example page_views                                # in-process broker
//! cargo run --example page_views -- --bootstrap-servers HOST:PORT
//! ```

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use streams::codec::{Codec, Json, Utf8};
use streams::config::StreamsConfig;
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::runtime::KafkaStreams;
use streams::topology::{RecordContext, Topology, TopologyBuilder};

use support::{Args, Cluster, Result};

/// A page view as the web tier writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageView {
    path: String,
    user_agent: String,
    referrer: Option<String>,
    duration_ms: u64,
}

/// A page view with what the analytics team needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EnrichedView {
    user: String,
    path: String,
    section: String,
    from_search: bool,
    duration_ms: u64,
}

/// Drops bots and health checks.
struct DropNoise;

impl Processor for DropNoise {
    type KIn = String;
    type VIn = PageView;
    type KOut = String;
    type VOut = PageView;

    fn process(
        &mut self,
        view: Record<String, PageView>,
        ctx: &mut ProcessorContext<'_, String, PageView>,
    ) -> std::result::Result<(), ProcessorError> {
        let agent = view.value.user_agent.to_lowercase();
        if agent.contains("bot") || agent.contains("crawler") || view.value.path == "/health" {
            return Ok(());
        }
        ctx.forward(view)
    }
}

/// Adds the section and the search-engine flag.
struct Enrich;

impl Processor for Enrich {
    type KIn = String;
    type VIn = PageView;
    type KOut = String;
    type VOut = EnrichedView;

    fn process(
        &mut self,
        view: Record<String, PageView>,
        ctx: &mut ProcessorContext<'_, String, EnrichedView>,
    ) -> std::result::Result<(), ProcessorError> {
        let user = view.key.clone();
        let enriched = view.map_value(|v| EnrichedView {
            section: v
                .path
                .split('/')
                .find(|s| !s.is_empty())
                .unwrap_or("home")
                .to_string(),
            from_search: v
                .referrer
                .as_deref()
                .is_some_and(|r| r.contains("google.") || r.contains("duckduckgo.")),
            user,
            path: v.path,
            duration_ms: v.duration_ms,
        });
        ctx.forward(enriched)
    }
}

fn topology(app: &str) -> Result<Topology> {
    let (checkout, enriched) = (
        format!("{app}-checkout-views"),
        format!("{app}-enriched-views"),
    );
    let route = move |_user: &String, view: &EnrichedView, _ctx: &RecordContext<'_>| {
        if view.section == "checkout" {
            checkout.clone()
        } else {
            enriched.clone()
        }
    };
    let mut builder = TopologyBuilder::new();
    builder
        .add_source(
            "page-views",
            [format!("{app}-page-views")],
            Utf8,
            Json::<PageView>::default(),
        )
        .add_processor("drop-noise", || DropNoise, ["page-views"])
        .add_processor("enrich", || Enrich, ["drop-noise"])
        .add_sink_with_extractor(
            "route",
            route,
            Utf8,
            Json::<EnrichedView>::default(),
            ["enrich"],
        );
    Ok(builder.build()?)
}

fn sample() -> Vec<(String, PageView)> {
    let view = |path: &str, agent: &str, referrer: Option<&str>, duration_ms| PageView {
        path: path.to_string(),
        user_agent: agent.to_string(),
        referrer: referrer.map(str::to_string),
        duration_ms,
    };
    vec![
        (
            "alice".into(),
            view(
                "/products/42",
                "Firefox",
                Some("https://www.google.com/"),
                5400,
            ),
        ),
        ("bob".into(), view("/health", "kube-probe", None, 1)),
        (
            "googlebot".into(),
            view("/products/42", "Googlebot/2.1", None, 90),
        ),
        (
            "alice".into(),
            view("/checkout/cart", "Firefox", None, 12000),
        ),
        (
            "carol".into(),
            view(
                "/blog/streams-in-rust",
                "Safari",
                Some("https://duckduckgo.com/"),
                61000,
            ),
        ),
        ("bob".into(), view("/", "Chrome", None, 800)),
        ("carol".into(), view("/checkout/pay", "Safari", None, 9000)),
    ]
}

fn main() -> Result<()> {
    support::init_logging();
    let args = Args::parse()?;
    let stop = support::stop_on_signal()?;
    let cluster = Cluster::connect(args.bootstrap_servers.clone())?;
    let app = if cluster.is_embedded() {
        "page-views".to_string()
    } else {
        format!("page-views-{}", support::run_id())
    };
    let input = format!("{app}-page-views");
    let outputs = [
        format!("{app}-enriched-views"),
        format!("{app}-checkout-views"),
    ];
    cluster.create_topics(&[(&input, 2), (&outputs[0], 2), (&outputs[1], 2)])?;

    let views = sample();
    let json = Json::<PageView>::default();
    let encoded: Vec<(String, Vec<u8>)> = views
        .iter()
        .map(|(user, v)| {
            let mut buf = Vec::new();
            json.encode(v, &mut buf).map(|()| (user.clone(), buf))
        })
        .collect::<std::result::Result<_, _>>()?;
    support::produce(
        cluster.bootstrap_servers(),
        &input,
        encoded
            .iter()
            .map(|(k, v)| (Some(k.as_bytes()), v.as_slice())),
    )?;
    println!("wrote {} page views to {input}", views.len());

    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(cluster.bootstrap_servers())
        .set("processing.guarantee", args.guarantee())
        .commit_interval(Duration::from_millis(500))
        .build()?;
    let streams = KafkaStreams::new(topology(&app)?, config)?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"))?;
    streams.start()?;

    // 5 views pass the filter: 3 to enriched-views, 2 to checkout-views.
    let enriched_json = Json::<EnrichedView>::default();
    for (topic, expected) in outputs.iter().zip([3, 2]) {
        println!("{topic}:");
        support::read(
            cluster.bootstrap_servers(),
            topic,
            expected,
            Duration::from_secs(60),
            &stop,
            |_, value| {
                if let Some(Ok(view)) = value.map(|v| enriched_json.decode(v)) {
                    println!(
                        "  {:<6} {:<24} section={:<9} from_search={:<5} {} ms",
                        view.user, view.path, view.section, view.from_search, view.duration_ms
                    );
                }
            },
        )?;
    }
    let closed = streams.close(Duration::from_secs(30));
    println!("closed cleanly: {closed}");
    Ok(())
}

//! Pictures of a topology: Mermaid (renders in GitHub markdown) and Graphviz DOT.
//!
//! Nodes, topics and stores get positional ids (`n0`, `t0`, `s0`), so any names draw safely.

use std::fmt::Write as _;

use super::{NodeKind, SinkTarget, Topology};

/// A topology flattened for drawing.
struct Picture<'a> {
    topics: Vec<&'a str>,
    stores: Vec<&'a str>,
    /// (from, to, style) where ids are already rendered.
    edges: Vec<(String, String, Edge)>,
}

#[derive(Clone, Copy)]
enum Edge {
    Record,
    Topic,
    Store,
}

impl<'a> Picture<'a> {
    fn of(topology: &'a Topology) -> Self {
        let nodes = topology.nodes();
        let mut topics: Vec<&str> = Vec::new();
        for node in nodes {
            match &node.kind {
                NodeKind::Source { topics: ts } => topics.extend(ts.iter().map(String::as_str)),
                NodeKind::Sink {
                    target: SinkTarget::Topic(t),
                } => topics.push(t),
                _ => {}
            }
        }
        topics.sort_unstable();
        topics.dedup();
        let stores: Vec<&str> = topology.store_names().collect();
        let topic_id = |t: &str| format!("t{}", topics.iter().position(|x| *x == t).unwrap_or(0));
        let store_id = |s: &str| format!("s{}", stores.iter().position(|x| *x == s).unwrap_or(0));
        let mut edges = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            for &c in &node.children {
                edges.push((format!("n{i}"), format!("n{c}"), Edge::Record));
            }
            match &node.kind {
                NodeKind::Source { topics: ts } => {
                    for t in ts {
                        edges.push((topic_id(t), format!("n{i}"), Edge::Topic));
                    }
                }
                NodeKind::Sink {
                    target: SinkTarget::Topic(t),
                } => edges.push((format!("n{i}"), topic_id(t), Edge::Topic)),
                _ => {}
            }
            for s in &node.stores {
                edges.push((format!("n{i}"), store_id(s), Edge::Store));
            }
        }
        Picture {
            topics,
            stores,
            edges,
        }
    }
}

impl Topology {
    /// Every sub-topology by id, with whether it is a global store's.
    fn all_groups(&self) -> Vec<(&super::Group, bool)> {
        let mut all: Vec<(&super::Group, bool)> = self
            .groups()
            .iter()
            .map(|g| (g, false))
            .chain(self.global_groups().iter().map(|g| (g, true)))
            .collect();
        all.sort_by_key(|(g, _)| g.id);
        all
    }

    /// A Mermaid flowchart: one subgraph per sub-topology; sources and sinks as trapezoids,
    /// topics as stadiums (dotted edges), stores as cylinders.
    ///
    /// ```
    /// # use streams_core::codec::Utf8;
    /// # use streams_core::topology::TopologyBuilder;
    /// let mut b = TopologyBuilder::new();
    /// b.add_source("in", ["input"], Utf8, Utf8).add_sink("out", "output", Utf8, Utf8, ["in"]);
    /// let mermaid = b.build().unwrap().to_mermaid();
    /// assert!(mermaid.starts_with("flowchart LR"));
    /// assert!(mermaid.contains("n0 --> n1"));
    /// ```
    pub fn to_mermaid(&self) -> String {
        let label = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart LR\n");
        let nodes = self.nodes();
        for (group, global) in self.all_groups() {
            let suffix = if global { " (global store)" } else { "" };
            let _ = writeln!(
                out,
                "  subgraph sub{0}[\"Sub-topology: {0}{suffix}\"]",
                group.id
            );
            for &i in &group.nodes {
                let (open, close) = match nodes[i].kind {
                    NodeKind::Source { .. } => ("[/", "/]"),
                    NodeKind::Processor => ("[", "]"),
                    NodeKind::Sink { .. } => ("[\\", "\\]"),
                };
                let _ = writeln!(out, "    n{i}{open}\"{}\"{close}", label(&nodes[i].name));
            }
            let _ = writeln!(out, "  end");
        }
        let picture = Picture::of(self);
        for (k, t) in picture.topics.iter().enumerate() {
            let _ = writeln!(out, "  t{k}([\"{}\"])", label(t));
        }
        for (k, s) in picture.stores.iter().enumerate() {
            let _ = writeln!(out, "  s{k}[(\"{}\")]", label(s));
        }
        for (from, to, edge) in &picture.edges {
            let arrow = match edge {
                Edge::Record => "-->",
                Edge::Topic => "-.->",
                Edge::Store => "---",
            };
            let _ = writeln!(out, "  {from} {arrow} {to}");
        }
        out
    }

    /// A Graphviz DOT digraph: one cluster per sub-topology; topics as ellipses (dashed edges),
    /// stores as cylinders (dotted edges).
    ///
    /// ```
    /// # use streams_core::codec::Utf8;
    /// # use streams_core::topology::TopologyBuilder;
    /// let mut b = TopologyBuilder::new();
    /// b.add_source("in", ["input"], Utf8, Utf8).add_sink("out", "output", Utf8, Utf8, ["in"]);
    /// let dot = b.build().unwrap().to_dot();
    /// assert!(dot.starts_with("digraph topology {"));
    /// assert!(dot.contains("n0 -> n1;"));
    /// ```
    pub fn to_dot(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out = String::from("digraph topology {\n  rankdir=LR;\n");
        let nodes = self.nodes();
        for (group, global) in self.all_groups() {
            let suffix = if global { " (global store)" } else { "" };
            let _ = writeln!(
                out,
                "  subgraph cluster_{0} {{\n    label=\"Sub-topology: {0}{suffix}\";",
                group.id
            );
            for &i in &group.nodes {
                let shape = match nodes[i].kind {
                    NodeKind::Source { .. } => "invhouse",
                    NodeKind::Processor => "box",
                    NodeKind::Sink { .. } => "house",
                };
                let _ = writeln!(
                    out,
                    "    n{i} [label={}, shape={shape}];",
                    q(&nodes[i].name)
                );
            }
            let _ = writeln!(out, "  }}");
        }
        let picture = Picture::of(self);
        for (k, t) in picture.topics.iter().enumerate() {
            let _ = writeln!(out, "  t{k} [label={}, shape=ellipse];", q(t));
        }
        for (k, s) in picture.stores.iter().enumerate() {
            let _ = writeln!(out, "  s{k} [label={}, shape=cylinder];", q(s));
        }
        for (from, to, edge) in &picture.edges {
            let style = match edge {
                Edge::Record => "",
                Edge::Topic => " [style=dashed]",
                Edge::Store => " [style=dotted, dir=none]",
            };
            let _ = writeln!(out, "  {from} -> {to}{style};");
        }
        out.push_str("}\n");
        out
    }
}

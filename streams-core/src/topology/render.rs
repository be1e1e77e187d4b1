//! Pictures of a topology: Mermaid (renders in GitHub markdown) and Graphviz DOT.

use std::fmt::Write as _;

use super::{NodeKind, SinkTarget, Topology};

fn id(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push_str("n_");
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '_' });
    }
    out
}

fn escape(label: &str) -> String {
    label.replace('"', "#quot;")
}

impl Topology {
    /// A Mermaid flowchart: one subgraph per sub-topology, topics as stadium shapes, stores as
    /// cylinders.
    ///
    /// ```
    /// # use streams_core::codec::Utf8;
    /// # use streams_core::topology::TopologyBuilder;
    /// let mut b = TopologyBuilder::new();
    /// b.add_source("in", ["input"], Utf8, Utf8).add_sink("out", "output", Utf8, Utf8, ["in"]);
    /// let mermaid = b.build().unwrap().to_mermaid();
    /// assert!(mermaid.starts_with("flowchart LR"));
    /// assert!(mermaid.contains("n_in --> n_out"));
    /// ```
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let nodes = self.nodes();
        let mut topics = Vec::new();
        for group in self.groups() {
            let _ = writeln!(out, "  subgraph sub{}[\"Sub-topology: {}\"]", group.id, group.id);
            for &i in &group.nodes {
                let node = &nodes[i];
                let shape = match node.kind {
                    NodeKind::Source { .. } => ("[/", "/]"),
                    NodeKind::Processor => ("[", "]"),
                    NodeKind::Sink { .. } => ("[\\", "\\]"),
                };
                let _ = writeln!(out, "    {}{}\"{}\"{}", id(&node.name), shape.0, escape(&node.name), shape.1);
            }
            let _ = writeln!(out, "  end");
        }
        for node in nodes {
            for &c in &node.children {
                let _ = writeln!(out, "  {} --> {}", id(&node.name), id(&nodes[c].name));
            }
            match &node.kind {
                NodeKind::Source { topics: ts } => {
                    for t in ts {
                        topics.push(t.clone());
                        let _ = writeln!(out, "  t_{} -.-> {}", id(t), id(&node.name));
                    }
                }
                NodeKind::Sink {
                    target: SinkTarget::Topic(t),
                } => {
                    topics.push(t.clone());
                    let _ = writeln!(out, "  {} -.-> t_{}", id(&node.name), id(t));
                }
                _ => {}
            }
            for s in &node.stores {
                let _ = writeln!(out, "  {} --- s_{}", id(&node.name), id(s));
            }
        }
        topics.sort();
        topics.dedup();
        for t in topics {
            let _ = writeln!(out, "  t_{}([\"{}\"])", id(&t), escape(&t));
        }
        for s in self.store_names() {
            let _ = writeln!(out, "  s_{}[(\"{}\")]", id(s), escape(s));
        }
        out
    }

    /// A Graphviz DOT digraph: one cluster per sub-topology, topics as ellipses, stores as
    /// cylinders.
    pub fn to_dot(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out = String::from("digraph topology {\n  rankdir=LR;\n  node [shape=box];\n");
        let nodes = self.nodes();
        for group in self.groups() {
            let _ = writeln!(out, "  subgraph cluster_{} {{\n    label={};", group.id, q(&format!("Sub-topology: {}", group.id)));
            for &i in &group.nodes {
                let node = &nodes[i];
                let shape = match node.kind {
                    NodeKind::Source { .. } => "invhouse",
                    NodeKind::Processor => "box",
                    NodeKind::Sink { .. } => "house",
                };
                let _ = writeln!(out, "    {} [shape={shape}];", q(&node.name));
            }
            let _ = writeln!(out, "  }}");
        }
        for node in nodes {
            for &c in &node.children {
                let _ = writeln!(out, "  {} -> {};", q(&node.name), q(&nodes[c].name));
            }
            match &node.kind {
                NodeKind::Source { topics } => {
                    for t in topics {
                        let _ = writeln!(out, "  {} [shape=ellipse];\n  {} -> {} [style=dashed];", q(&format!("topic:{t}")), q(&format!("topic:{t}")), q(&node.name));
                    }
                }
                NodeKind::Sink {
                    target: SinkTarget::Topic(t),
                } => {
                    let _ = writeln!(out, "  {} [shape=ellipse];\n  {} -> {} [style=dashed];", q(&format!("topic:{t}")), q(&node.name), q(&format!("topic:{t}")));
                }
                _ => {}
            }
            for s in &node.stores {
                let _ = writeln!(out, "  {} [shape=cylinder];\n  {} -> {} [dir=both, style=dotted];", q(&format!("store:{s}")), q(&node.name), q(&format!("store:{s}")));
            }
        }
        out.push_str("}\n");
        out
    }
}

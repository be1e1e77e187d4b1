#!/usr/bin/env python3
"""Executable model of Kafka Streams' Topology#describe().toString() (InternalTopologyBuilder, Kafka 4.x).

It reproduces the Java output byte for byte, including the parts that depend on Java collection internals:
  * java.util.HashMap / HashSet iteration order (stores, topics, and the order in which nodes are wired up),
  * java.util.TreeSet (red-black tree) insertion with a comparator whose keys (sub-tree sizes) change
    after insertion, which decides the order of the "-->" / "<--" name lists.

Run it to check the model against the golden files written by the Maven project:
    python3 tools/kafka-streams-golden/describe_model.py [golden-dir]
It is a reference for the Rust port; it is not used by the build.
"""
import os
import sys

# ----------------------------------------------------------------------------- Java HashMap order


def java_string_hash(s):
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h  # unsigned 32-bit view of the int


def spread(h):
    return (h ^ (h >> 16)) & 0xFFFFFFFF


def default_capacity(n):
    """Table size of a default `new HashMap<>()` / `new HashSet<>()` after n puts."""
    cap = 16
    while n > cap * 3 // 4:
        cap *= 2
    return cap


def table_size_for(c):
    cap = 1
    while cap < c:
        cap *= 2
    return cap


def copy_capacity(n):
    """Table size of `new HashSet<>(collection)` (JDK 17: max((int)(n/.75f)+1, 16))."""
    return table_size_for(max(int(n / 0.75) + 1, 16))


def hash_order(names_in_insertion_order, cap):
    """Iteration order of a HashMap/HashSet with table size cap: bucket index, then insertion order."""
    return sorted(names_in_insertion_order, key=lambda s: spread(java_string_hash(s)) & (cap - 1))


def default_hashset(names):
    return hash_order(names, default_capacity(len(names)))


def copied_hashset(names_in_source_iteration_order):
    return hash_order(names_in_source_iteration_order, copy_capacity(len(names_in_source_iteration_order)))


def java_set_str(items):
    return "[" + ", ".join(items) + "]"


# ----------------------------------------------------------------------------- Java TreeMap (red-black)

RED, BLACK = False, True


class _Entry:
    __slots__ = ("key", "left", "right", "parent", "color")

    def __init__(self, key, parent):
        self.key, self.parent = key, parent
        self.left = self.right = None
        self.color = BLACK


class JavaTreeSet:
    """Port of java.util.TreeMap#put + fixAfterInsertion; the comparator is read at insertion time."""

    def __init__(self, cmp):
        self.cmp, self.root = cmp, None

    def add(self, key):
        t = self.root
        if t is None:
            self.root = _Entry(key, None)
            return
        while True:
            parent = t
            c = self.cmp(key, t.key)
            if c < 0:
                t = t.left
            elif c > 0:
                t = t.right
            else:
                return
            if t is None:
                break
        e = _Entry(key, parent)
        if c < 0:
            parent.left = e
        else:
            parent.right = e
        self._fix(e)

    def __iter__(self):
        out, stack, n = [], [], self.root
        while stack or n:
            while n:
                stack.append(n)
                n = n.left
            n = stack.pop()
            out.append(n.key)
            n = n.right
        return iter(out)

    def __len__(self):
        return len(list(iter(self)))

    @staticmethod
    def _color(p):
        return BLACK if p is None else p.color

    @staticmethod
    def _parent(p):
        return None if p is None else p.parent

    @staticmethod
    def _left(p):
        return None if p is None else p.left

    @staticmethod
    def _right(p):
        return None if p is None else p.right

    @staticmethod
    def _set_color(p, c):
        if p is not None:
            p.color = c

    def _rotate_left(self, p):
        if p is None:
            return
        r = p.right
        p.right = r.left
        if r.left is not None:
            r.left.parent = p
        r.parent = p.parent
        if p.parent is None:
            self.root = r
        elif p.parent.left is p:
            p.parent.left = r
        else:
            p.parent.right = r
        r.left = p
        p.parent = r

    def _rotate_right(self, p):
        if p is None:
            return
        l = p.left
        p.left = l.right
        if l.right is not None:
            l.right.parent = p
        l.parent = p.parent
        if p.parent is None:
            self.root = l
        elif p.parent.right is p:
            p.parent.right = l
        else:
            p.parent.left = l
        l.right = p
        p.parent = l

    def _fix(self, x):
        P, L, R, C, S = self._parent, self._left, self._right, self._color, self._set_color
        x.color = RED
        while x is not None and x is not self.root and x.parent.color == RED:
            if P(x) is L(P(P(x))):
                y = R(P(P(x)))
                if C(y) == RED:
                    S(P(x), BLACK)
                    S(y, BLACK)
                    S(P(P(x)), RED)
                    x = P(P(x))
                else:
                    if x is R(P(x)):
                        x = P(x)
                        self._rotate_left(x)
                    S(P(x), BLACK)
                    S(P(P(x)), RED)
                    self._rotate_right(P(P(x)))
            else:
                y = L(P(P(x)))
                if C(y) == RED:
                    S(P(x), BLACK)
                    S(y, BLACK)
                    S(P(P(x)), RED)
                    x = P(P(x))
                else:
                    if x is L(P(x)):
                        x = P(x)
                        self._rotate_right(x)
                    S(P(x), BLACK)
                    S(P(P(x)), RED)
                    self._rotate_left(P(P(x)))
        self.root.color = BLACK


# ----------------------------------------------------------------------------- topology model


class Topology:
    """Mirror of the Processor API calls (order matters)."""

    def __init__(self):
        self.nodes = {}  # insertion ordered, like InternalTopologyBuilder.nodeFactories (LinkedHashMap)
        self.parent = {}  # QuickUnion
        self.store_users = {}  # store -> connected processor names
        self.global_sources = set()

    # QuickUnion
    def _root(self, n):
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def _unite(self, a, b):
        ra, rb = self._root(a), self._root(b)
        if ra != rb:
            self.parent[ra] = rb

    def _add(self, name, node, preds):
        self.nodes[name] = node
        self.parent[name] = name
        for p in preds:
            self._unite(name, p)

    def add_source(self, name, *topics, pattern=None):
        self._add(name, {"kind": "source", "topics": list(topics), "pattern": pattern, "preds": []}, [])

    def add_processor(self, name, *preds):
        self._add(name, {"kind": "processor", "preds": list(preds), "stores": []}, preds)

    def add_sink(self, name, topic, *preds, extractor=None):
        self._add(name, {"kind": "sink", "topic": topic, "extractor": extractor, "preds": list(preds)}, preds)

    def add_state_store(self, store, *processors):
        for p in processors:
            users = self.store_users.setdefault(store, [])
            if users:
                self._unite(users[0], p)
            users.append(p)
            if store not in self.nodes[p]["stores"]:
                self.nodes[p]["stores"].append(store)

    def add_global_store(self, store, source, topic, processor):
        self.nodes[source] = {"kind": "source", "topics": [topic], "pattern": None, "preds": []}
        self.parent[source] = source
        self.global_sources.add(source)
        self.nodes[processor] = {"kind": "processor", "preds": [source], "stores": [store]}
        self.parent[processor] = processor
        self._unite(processor, source)

    # ------------------------------------------------------------------ describe()
    def describe(self):
        groups = {}  # root -> member names in nodeFactories order; dict keeps first-seen order = group id
        for name in self.nodes:
            groups.setdefault(self._root(name), []).append(name)
        out = ["Topologies:\n "]
        for gid, members in enumerate(groups.values()):
            out.append("  ")
            if any(m in self.global_sources for m in members):
                out.append(self._describe_global(gid, members))
            else:
                out.append(self._describe_subtopology(gid, members))
        return "".join(out)

    def _describe_global(self, gid, members):
        src = next(m for m in members if m in self.global_sources)
        proc = next(m for m in members if m != src)
        return (f"Sub-topology: {gid} for global store (will not generate tasks)\n"
                f"    Source: {src} (topics: [{self.nodes[src]['topics'][0]}])\n      --> {proc}\n"
                f"    Processor: {proc} (stores: [{self.nodes[proc]['stores'][0]}])\n      --> none\n      <-- {src}\n")

    def _describe_subtopology(self, gid, members):
        size = {m: 1 for m in members}

        def cmp(a, b):
            if a == b:
                return 0
            if size[a] != size[b]:
                return size[b] - size[a]
            return -1 if a < b else 1  # String.compareTo (UTF-16 code units; same as < for BMP text)

        succ = {m: JavaTreeSet(cmp) for m in members}
        pred = {m: JavaTreeSet(cmp) for m in members}

        def update_size(n, delta):
            size[n] += delta
            for p in pred[n]:
                update_size(p, delta)

        # nodesByName is a default HashMap filled from the group's default HashSet: wiring order is hash order
        for n in default_hashset(members):
            for p in self.nodes[n]["preds"]:
                pred[n].add(p)
                succ[p].add(n)
                update_size(p, size[n])

        ordered = sorted(members, key=lambda m: (-size[m], m))  # final sizes: a consistent TreeSet
        lines = [f"Sub-topology: {gid}\n"]
        for n in ordered:
            node = self.nodes[n]
            names = lambda s: ", ".join(s) if len(s) else "none"
            if node["kind"] == "source":
                if node["pattern"] is not None:
                    topics = node["pattern"]
                else:
                    topics = java_set_str(copied_hashset(node["topics"]))
                lines.append(f"    Source: {n} (topics: {topics})\n      --> {names(list(succ[n]))}\n")
            elif node["kind"] == "processor":
                stores = java_set_str(copied_hashset(default_hashset(node["stores"])))
                lines.append(f"    Processor: {n} (stores: {stores})\n      --> {names(list(succ[n]))}\n"
                             f"      <-- {names(list(pred[n]))}\n")
            else:
                target = f"topic: {node['topic']}" if node["extractor"] is None else f"extractor class: {node['extractor']}"
                lines.append(f"    Sink: {n} ({target})\n      <-- {names(list(pred[n]))}\n")
        lines.append("\n")
        return "".join(lines)


# ----------------------------------------------------------------------------- the golden cases


def cases():
    c = {}
    t = Topology()
    t.add_source("Source", "input"); t.add_processor("Upper", "Source"); t.add_sink("Sink", "output", "Upper")
    c["simple"] = t

    t = Topology()
    t.add_source("orders-source", "orders"); t.add_processor("parse", "orders-source")
    t.add_sink("to-repartition", "app-by-user-repartition", "parse")
    t.add_source("repartition-source", "app-by-user-repartition"); t.add_processor("count", "repartition-source")
    t.add_state_store("counts", "count"); t.add_sink("counts-sink", "counts", "count")
    c["two_subtopologies"] = t

    t = Topology()
    t.add_source("S1", "a", "b"); t.add_source("S2", "c")
    t.add_processor("P1", "S1"); t.add_processor("P2", "S1"); t.add_processor("M", "P1", "P2", "S2")
    t.add_state_store("st1", "M"); t.add_state_store("st2", "M")
    t.add_sink("K1", "x", "M"); t.add_sink("K2", "y", "P2")
    c["fan_out_merge"] = t

    t = Topology()
    t.add_source("A", "ta"); t.add_processor("PA", "A"); t.add_source("B", "tb"); t.add_processor("PB", "B")
    t.add_state_store("shared", "PA", "PB"); t.add_source("C", "tc"); t.add_sink("KC", "tc-out", "C")
    c["shared_store"] = t

    t = Topology()
    t.add_source("zeta", "t1")
    t.add_processor("b-proc", "zeta"); t.add_processor("a-proc", "zeta"); t.add_processor("c-proc", "zeta")
    t.add_sink("sink-1", "o1", "a-proc"); t.add_processor("d-proc", "c-proc"); t.add_sink("sink-0", "o0", "d-proc")
    t.add_source("alpha", "t0"); t.add_processor("e-proc", "alpha"); t.add_sink("sink-2", "o2", "e-proc")
    c["ordering"] = t

    t = Topology()  # what StreamsBuilder#build() produces for the word count (names from the golden file)
    t.add_source("KSTREAM-SOURCE-0000000000", "text-input")
    t.add_processor("KSTREAM-FLATMAPVALUES-0000000001", "KSTREAM-SOURCE-0000000000")
    t.add_processor("KSTREAM-KEY-SELECT-0000000002", "KSTREAM-FLATMAPVALUES-0000000001")
    t.add_processor("counts-store-repartition-filter", "KSTREAM-KEY-SELECT-0000000002")
    t.add_sink("counts-store-repartition-sink", "counts-store-repartition", "counts-store-repartition-filter")
    t.add_source("counts-store-repartition-source", "counts-store-repartition")
    t.add_processor("KSTREAM-AGGREGATE-0000000003", "counts-store-repartition-source")
    t.add_state_store("counts-store", "KSTREAM-AGGREGATE-0000000003")
    t.add_processor("KTABLE-TOSTREAM-0000000007", "KSTREAM-AGGREGATE-0000000003")
    t.add_sink("KSTREAM-SINK-0000000008", "wordcount-output", "KTABLE-TOSTREAM-0000000007")
    c["dsl_wordcount"] = t

    t = Topology()
    t.add_source("in", "input"); t.add_sink("dyn", None, "in", extractor="TopicByKeyExtractor")
    c["sink_extractor_named"] = t

    t = Topology()
    t.add_source("first-source", "first"); t.add_processor("first-proc", "first-source")
    t.add_global_store("global-store", "global-source", "global-topic", "global-proc")
    t.add_source("second-source", "second"); t.add_processor("second-proc", "second-source")
    t.add_sink("second-sink", "second-out", "second-proc")
    c["global_store"] = t

    t = Topology()
    t.add_source("pat", pattern="topic-[0-9]+"); t.add_processor("p", "pat")
    c["pattern_source"] = t

    t = Topology()
    t.add_source("src", "zebra", "apple", "mango", "b", "Topic-10", "topic-9"); t.add_processor("proc", "src")
    for s in ["zeta-store", "alpha", "counts", "m", "B", "store-10", "store-9"]:
        t.add_state_store(s, "proc")
    c["hash_order"] = t

    t = Topology()
    t.add_source("root", "wide-in")
    kids = ["k5", "k1", "k4", "k2", "k3", "k0"]
    for i, k in enumerate(kids):
        t.add_processor(k, "root")
        prev = k
        for j in range(i):
            n = f"{k}-c{j}"
            t.add_processor(n, prev)
            prev = n
    t.add_processor("join", "k5", "k1-c0", "k4-c1", "k3-c3", "k0-c4")
    t.add_sink("out", "wide-out", "join", "k2")
    c["wide"] = t

    t = Topology()
    t.add_source("s", "d-in"); t.add_processor("y", "s"); t.add_processor("x", "s"); t.add_processor("y2", "y")
    t.add_processor("m", "y2", "x"); t.add_processor("n", "x", "y"); t.add_sink("o", "d-out", "m", "n")
    c["diamond"] = t
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "streams-core", "tests", "golden")
    ok = bad = 0
    for name, topo in cases().items():
        path = os.path.join(golden, "describe", name + ".txt")
        with open(path, encoding="utf-8", newline="") as f:
            expected = f.read()
        got = topo.describe()
        if got == expected:
            ok += 1
        else:
            bad += 1
            print(f"MISMATCH {name}\n--- expected\n{expected!r}\n--- model\n{got!r}")
    print(f"{ok} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

/// The host's own methods, with their params and what they answer: the one list `HostMethods`
/// serves (a method not listed here answers -32601, so a new one must be added to be reachable)
/// and `modhost --help` prints, so the help cannot go stale.
public enum HostMethodCatalog {
    public struct Entry: Sendable {
        public let name: String
        public let params: String
        public let summary: String
    }

    public static let entries: [Entry] = [
        Entry(name: "host.status", params: "", summary: "version, ABI, clock, modules, open calls"),
        Entry(name: "host.shutdown", params: "", summary: "true, then a graceful shutdown"),
        Entry(name: "host.reloadConfig", params: "", summary: "re-reads --config: applies edited host.modules"),
        Entry(name: "host.metrics", params: "{format?}", summary: "{text}: call metrics as Prometheus text"),
        Entry(name: "modules.list", params: "", summary: "loaded modules: id, version, state, file"),
        Entry(name: "modules.describe", params: "{id}", summary: "methods, exports, requires, flags, shadow"),
        Entry(name: "modules.metrics", params: "{id?}", summary: "calls, errors, in flight, p50/p95/p99 per method"),
        Entry(name: "modules.load", params: "{path, config?}", summary: "loads a plugin file; its description"),
        Entry(name: "modules.unload", params: "{id, force?}", summary: "unloads a module"),
        Entry(name: "modules.swap", params: "{id, path, config?, mode?, …}", summary: "hot swap; mode \"shadow\" or \"canary\": beside"),
        Entry(name: "modules.canary", params: "{id, percent}", summary: "a canary's share; 100 promotes, 0 rolls back"),
        Entry(name: "modules.rollback", params: "{id}", summary: "swaps back to the previous generation"),
        Entry(name: "modules.promote", params: "{id}", summary: "swaps the shadow's or canary's version in"),
        Entry(name: "events.subscribe", params: "{topics}", summary: "subscribes to topic patterns (* matches any run)"),
        Entry(name: "events.unsubscribe", params: "{topics}", summary: "drops topic patterns"),
        Entry(name: "events.publish", params: "{topic, data?}", summary: "publishes an event; the number of subscribers"),
        Entry(name: "clock.advance", params: "{ms}", summary: "moves the manual clock on, running its timers"),
        Entry(name: "clock.set", params: "{ms}", summary: "sets the manual clock"),
    ]

    /// The names, for the dispatch check.
    static let names = Set(entries.map(\.name))

    /// The list for `--help`: one method a line, its params and what it answers (on the next
    /// line when the method and its params are long), within 80 columns (summaries are at most
    /// 50 characters: `HostMethodCatalogTests` checks).
    public static var helpText: String {
        let column = 30
        return entries.map { entry in
            let head = "  " + (entry.params.isEmpty ? entry.name : "\(entry.name) \(entry.params)")
            let pad = head.count < column ? String(repeating: " ", count: column - head.count) : "\n" + String(repeating: " ", count: column)
            return head + pad + entry.summary
        }.joined(separator: "\n")
    }
}

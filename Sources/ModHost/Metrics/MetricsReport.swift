import Foundation

/// `modules.metrics {id?}` and `host.metrics {format}`: the host's call metrics as JSON, or as
/// Prometheus text for scrapers and a node exporter's textfile collector.
enum MetricsReport {
    static let offMessage = "metrics are off: the host was started with --no-metrics; restart it without that option to count calls"

    struct Answer: Encodable {
        let enabled: Bool
        let message: String?
        let modules: [Module]
    }
    struct Module: Encodable {
        let id: String
        let generations: [Generation]
    }
    struct Generation: Encodable {
        let generation: Int
        let version: String
        /// The generation now serving the module's calls.
        let current: Bool
        /// A shadow's (mirrored calls only).
        let shadow: Bool
        /// A canary's (serving a share of the calls beside the current one).
        let canary: Bool
        let methods: [Method]
    }
    struct Method: Encodable {
        let method: String
        let calls: Int
        /// Errors by JSON-RPC code ("-32000": n).
        let errors: [String: Int]
        let inFlight: Int
        // Latency in microseconds, from when the generation started running the call to its
        // answer; absent while no call was timed (a series of refused, undeclared names).
        let p50Us: UInt64?
        let p95Us: UInt64?
        let p99Us: UInt64?
        let maxUs: UInt64?
        let meanUs: Double?

        init(_ snapshot: MethodSeries.Snapshot) {
            method = snapshot.method
            calls = snapshot.calls
            errors = Dictionary(uniqueKeysWithValues: snapshot.errors.map { (String($0.key), $0.value) })
            inFlight = snapshot.inFlight
            p50Us = snapshot.micros(atPercentile: 50)
            p95Us = snapshot.micros(atPercentile: 95)
            p99Us = snapshot.micros(atPercentile: 99)
            maxUs = snapshot.latency.flatMap { $0.totalCount > 0 ? $0.max : nil }
            meanUs = snapshot.latency.flatMap { $0.totalCount > 0 ? (Double(snapshot.totalNanoseconds) / 1000 / Double($0.totalCount)).rounded() : nil }
        }
    }

    /// The JSON answer, for one module (`id`) or all.
    static func answer(_ runtime: HostRuntime, id: String?) throws(RPCError) -> Answer {
        guard let metrics = runtime.metrics else {
            if let id, runtime.registry.slot(id) == nil { throw RPCError.invalidParams("\"id\": no module \"\(id)\" is loaded") }
            return Answer(enabled: false, message: offMessage, modules: [])
        }
        let selected: [(module: String, generations: [GenerationMetrics])]
        if let id {
            guard let generations = metrics.generations(of: id) else {
                throw RPCError.invalidParams("\"id\": no module \"\(id)\" is loaded (give a loaded module's id, or leave \"id\" out for all)")
            }
            selected = [(id, generations)]
        } else {
            selected = metrics.all()
        }
        return Answer(enabled: true, message: nil, modules: selected.map { entry in
            let slot = runtime.registry.slot(entry.module)
            let current = slot?.instance?.generation
            let canary = slot?.canary?.instance.generation
            return Module(id: entry.module, generations: entry.generations.map { generation in
                Generation(
                    generation: generation.generation, version: generation.version, current: generation.generation == current,
                    shadow: generation.isShadow, canary: generation.generation == canary, methods: generation.snapshots().map(Method.init))
            })
        })
    }

    /// The Prometheus text exposition format (version 0.0.4). Latency is a summary with the
    /// quantiles 0.5, 0.95 and 0.99 worked out by the host from its HDR histograms (two
    /// significant digits), with `_sum` and `_count`.
    static func prometheus(_ runtime: HostRuntime) -> String {
        guard let metrics = runtime.metrics else { return "# modhost: \(offMessage)\n" }
        var calls = "", errors = "", inFlight = "", latency = ""
        for (module, generations) in metrics.all() {
            for generation in generations {
                for series in generation.snapshots() {
                    let labels = "module=\"\(escape(module))\",generation=\"\(generation.generation)\",method=\"\(escape(series.method))\""
                    calls += "modhost_calls_total{\(labels)} \(series.calls)\n"
                    for (code, count) in series.errors.sorted(by: { $0.key < $1.key }) {
                        errors += "modhost_call_errors_total{\(labels),code=\"\(code)\"} \(count)\n"
                    }
                    inFlight += "modhost_calls_in_flight{\(labels)} \(series.inFlight)\n"
                    guard let histogram = series.latency, histogram.totalCount > 0 else { continue }
                    for (quantile, percentile) in [("0.5", 50.0), ("0.95", 95.0), ("0.99", 99.0)] {
                        latency += "modhost_call_duration_seconds{\(labels),quantile=\"\(quantile)\"} \(seconds(micros: histogram.valueAtPercentile(percentile)))\n"
                    }
                    latency += "modhost_call_duration_seconds_sum{\(labels)} \(Double(series.totalNanoseconds) / 1e9)\n"
                    latency += "modhost_call_duration_seconds_count{\(labels)} \(histogram.totalCount)\n"
                }
            }
        }
        let text = """
            # HELP modhost_calls_total Calls a module generation answered, by method (undeclared names count as method="_unknown").
            # TYPE modhost_calls_total counter
            \(calls)# HELP modhost_call_errors_total Calls answered with an error, by JSON-RPC error code.
            # TYPE modhost_call_errors_total counter
            \(errors)# HELP modhost_calls_in_flight Calls a module generation is running now.
            # TYPE modhost_calls_in_flight gauge
            \(inFlight)# HELP modhost_call_duration_seconds Time from a generation starting a call to its answer (HDR histogram, 2 significant digits).
            # TYPE modhost_call_duration_seconds summary
            \(latency)
            """
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    private static func seconds(micros: UInt64) -> String {
        "\(Double(micros) / 1e6)"
    }

    /// A label value: backslash, double quote and newline escaped.
    private static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}

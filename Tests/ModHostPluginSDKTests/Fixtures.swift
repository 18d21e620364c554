import Foundation
import ModHostPluginSDK
import Synchronization

// Plugin types the tests drive through their real descriptors.

struct Operands: Decodable, Sendable {
    let minuend: Int
    let subtrahend: Int
}

struct Shape: Decodable {
    struct Size: Decodable {
        let width: Int
        let height: Int
    }
    let size: Size
    let tags: [String]
}

struct NoFields: Decodable {}

struct Options: Decodable {
    let verbose: Bool?
}

struct Entry: Codable, Sendable {
    let key: String
    let value: String
}

struct Missing: Error, CustomStringConvertible {
    var description: String { "the thing is gone" }
}

/// How each `relay` call ended, by its `tag` param.
let relayOutcomes = Mutex<[String: String]>([:])
/// `PluginHost` handles kept past their instance's lifetime by `keepHost`.
let keptHosts = Mutex<[PluginHost]>([])

/// A Sendable plugin: sync and async handlers, events, host services.
final class Arithmetic: Plugin, Sendable {
    static let id = "arith"
    static let version = "2.1.0"
    static let description = "Test arithmetic"
    static let requires = ["clock >=1.0"]
    static let subscriptions = ["tick.*", "alarm"]

    let host: PluginHost
    let events = Mutex<[String]>([])
    let started = Mutex(false)

    init(host: PluginHost, config: RawJSON) {
        self.host = host
    }

    func start() throws { started.withLock { $0 = true } }
    func stop() { started.withLock { $0 = false } }

    func onEvent(topic: String, data: RawJSON) {
        events.withLock { $0.append("\(topic) \(data.text)") }
    }

    static func register(_ methods: inout Methods<Arithmetic>) {
        methods.add("subtract", params: ["minuend", "subtrahend"]) { (_, p: Operands) in p.minuend - p.subtrahend }
        methods.add("named") { (_, p: Operands) in p.minuend - p.subtrahend }
        methods.add("area") { (_, shape: Shape) in shape.size.width * shape.size.height }
        methods.add("ping") { _ in "pong" }
        methods.add("touch") { (_, _: NoFields) in "touched" }
        methods.add("verbose") { (_, options: Options) in options.verbose ?? false }
        methods.add("ignore") { (_, _: JSONValue) in }
        methods.add("reject") { _ -> Int in
            throw PluginError(code: 404, "no such thing", data: ["id": 7] as JSONValue)
        }
        methods.add("crash") { _ -> Int in throw Missing() }
        methods.add("nan") { _ in Double.nan }
        methods.add("events") { plugin in plugin.events.withLock { $0 } }
        methods.add("started") { plugin in plugin.started.withLock { $0 } }
        methods.add("slowSubtract", params: ["minuend", "subtrahend"]) { (_, p: Operands) async throws -> Int in
            try await Task.sleep(for: .milliseconds(5))
            return p.minuend - p.subtrahend
        }
        methods.add("relay") { (plugin, params: [String: String]) async throws -> Int in
            let tag = params["tag"] ?? ""
            do {
                let doubled = try await plugin.host.call("other.double", params: ["n": 21] as JSONValue, as: Int.self)
                relayOutcomes.withLock { $0[tag] = "\(doubled)" }
                return doubled
            } catch {
                relayOutcomes.withLock { $0[tag] = "\(error)" }
                throw error
            }
        }
        methods.add("relayWithClosure", params: ["tag"]) { (plugin, params: [String: String]) in
            let tag = params["tag"] ?? ""
            try plugin.host.call("other.double", params: ["n": 2] as JSONValue) { result in
                relayOutcomes.withLock { $0[tag] = "\(result)" }
            }
        }
        methods.add("keepHost") { plugin in keptHosts.withLock { $0.append(plugin.host) } }
        methods.add("publishEmptyTopic") { plugin in try plugin.host.publish("") }
        methods.add("put", params: ["key", "value"]) { (plugin, entry: Entry) in
            try plugin.host.store.put(entry.key, entry.value)
        }
        methods.add("get", params: ["key"]) { (plugin, key: [String: String]) in
            try plugin.host.store.getString(key["key"] ?? "")
        }
        methods.add("remind", params: ["ms"]) { (plugin, delay: [String: Int]) in
            let host = plugin.host
            return try host.startTimer(after: .milliseconds(delay["ms"] ?? 0)) { host.log(.notice, "reminder") }.rawValue
        }
    }
}

/// A plugin whose initializer reads its config and may refuse it.
final class Picky: Plugin {
    static let id = "picky"
    static let version = "0.1.0"

    struct Config: Decodable {
        let port: Int
    }

    let port: Int

    init(host: PluginHost, config: RawJSON) throws {
        port = try config.decode(Config.self).port
        guard port > 0 else { throw PluginError.failed("port must be positive, got \(port)") }
    }

    func start() throws {
        if port == 1 { throw PluginError.failed("port 1 is reserved") }
    }
}

/// A stateful plugin at schema 2 that migrates schema 1 (`{"hits":N}`).
final class Counter: StatefulPlugin {
    static let id = "counter"
    static let version = "2.0.0"
    static let stateSchemaVersion = 2

    struct State: Codable {
        var count: Int
        var label: String
    }

    struct StateV1: Decodable {
        var hits: Int
    }

    var count = 0
    var label = "fresh"
    var importedFrom = ""

    init(host: PluginHost, config: RawJSON) {}

    static func register(_ methods: inout Methods<Counter>) {
        methods.add("increment") { counter -> Int in
            counter.count += 1
            return counter.count
        }
        methods.add("describe") { counter in "\(counter.count) \(counter.label) from \(counter.importedFrom)" }
    }

    func exportState() -> State { State(count: count, label: label) }

    func importState(_ state: State, from version: String) {
        count = state.count
        label = state.label
        importedFrom = version
    }

    static func migrate(_ state: RawJSON, fromSchema: Int) throws -> State {
        guard fromSchema == 1 else { throw PluginError.failed("no migration from schema \(fromSchema)") }
        return State(count: try state.decode(StateV1.self).hits, label: "migrated")
    }
}

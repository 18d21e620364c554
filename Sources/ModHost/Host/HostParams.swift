import Foundation
import ModHostJSON

/// Params and results of the host's own methods (not on the hot path): params decoded with the
/// toolkit's `JSONValueDecoder`, whose errors become `-32602` messages that name the field
/// (`DecodingFailure`); results encoded with Codable.
enum HostParams {
    static func decode<T: Decodable>(_ type: T.Type, _ params: [UInt8]?) throws(RPCError) -> T {
        let bytes = try object(params)
        do {
            return try bytes.withUnsafeBytes { try JSONValueDecoder().decode(T.self, from: $0) }
        } catch let error as DecodingError {
            throw RPCError.invalidParams(DecodingFailure.message(error))
        } catch {
            throw RPCError.invalidParams("\(error)")
        }
    }

    static func encode(_ value: some Encodable) throws(RPCError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return [UInt8](try encoder.encode(value))
        } catch {
            throw RPCError.internalError("could not encode the result: \(error)")
        }
    }

    /// `events.publish {topic, data?}`: data is any JSON value, passed on as the caller wrote it.
    static func decodePublish(_ params: [UInt8]?) throws(RPCError) -> (String, [UInt8]) {
        let members = try rawMembers(params)
        guard let topicBytes = members["topic"] else { throw RPCError.invalidParams("missing field \"topic\"") }
        guard let topic = string(topicBytes) else { throw RPCError.invalidParams("\"topic\": expected a string") }
        guard !topic.isEmpty else { throw RPCError.invalidParams("\"topic\" must not be empty") }
        return (topic, members["data"] ?? Array("null".utf8))
    }

    /// `modules.load {path, config?}` (and swap): config is an object, passed on as written.
    static func decodeLoad(_ params: [UInt8]?) throws(RPCError) -> (String, [UInt8]?) {
        let members = try rawMembers(params)
        guard let pathBytes = members["path"] else { throw RPCError.invalidParams("missing field \"path\"") }
        guard let path = string(pathBytes) else { throw RPCError.invalidParams("\"path\": expected a string") }
        guard let config = members["config"] else { return (path, nil) }
        guard config.first == UInt8(ascii: "{") else { throw RPCError.invalidParams("\"config\": expected an object") }
        return (path, config)
    }

    private static func object(_ params: [UInt8]?) throws(RPCError) -> [UInt8] {
        guard let params else { return Array("{}".utf8) }
        guard params.first == UInt8(ascii: "{") else {
            throw RPCError.invalidParams("params must be an object with named members")
        }
        return params
    }

    private static func rawMembers(_ params: [UInt8]?) throws(RPCError) -> [String: [UInt8]] {
        guard let members = JSONMembers.raw(try object(params)) else {
            throw RPCError.invalidParams("params must be an object with named members")
        }
        return members
    }

    /// The value of a raw JSON string, or nil when it is not a string.
    private static func string(_ raw: [UInt8]) -> String? {
        guard raw.count >= 2, raw.first == UInt8(ascii: "\""), raw.last == UInt8(ascii: "\"") else { return nil }
        return raw.withUnsafeBufferPointer { JSONString.decode(UnsafeBufferPointer(rebasing: $0[1..<raw.count - 1])) }
    }
}

struct IDParams: Decodable { let id: String }
struct UnloadParams: Decodable {
    let id: String
    let force: Bool?
}
struct TopicsParams: Decodable { let topics: [String] }
struct MetricsParams: Decodable { let id: String? }
struct HostMetricsParams: Decodable { let format: String? }
/// `host.metrics {format: "prometheus"}`'s answer.
struct PrometheusText: Encodable {
    let text: String
    let enabled: Bool
    let message: String?
}
struct SwapParams: Decodable {
    let id: String
    let path: String
    let mode: String?
    /// Shadow mode only: per-method comparison rules and the number of differing samples kept.
    let compare: JSONValue?
    let keepSamples: Int?
    /// Canary mode only: the share of calls (1 to 99) and the JSON pointer that keeps a
    /// session on one side.
    let percent: Int?
    let stickyKey: String?
    /// Shadow or canary: checks that promote or roll back on their own.
    let gates: JSONValue?
}
struct CanaryParams: Decodable {
    let id: String
    let percent: Int
}
struct ClockParams: Decodable { let ms: Int64 }

struct HostStatus: Encodable {
    let version: String
    let abiVersion: String
    let serverId: String
    let uptimeMs: Int64
    let clock: String
    let nowMs: Int64
    let modules: [ModuleSummary]
    let retiredImages: Int
    let openCalls: Int
    /// Events not sent to connected clients because they were not reading their output, in all.
    let droppedEvents: Int
    let clients: [ClientSummary]
    /// What `--disable` leaves out: module ids, then resolved files.
    let disabled: [String]
}

struct ModuleList: Encodable { let modules: [ModuleSummary] }

/// One connected client in `host.status`.
struct ClientSummary: Encodable {
    let clientId: UInt64
    /// `stdio` or `unix`.
    let transport: String
    /// The socket a `unix` client connected to.
    let socket: String?
    let connectedAtMs: Int64
    let subscriptions: [String]
    /// Events not sent to it because it was not reading its output.
    let droppedEvents: Int

    init(_ client: ChannelClient, subscriptions: [String]) {
        clientId = client.id
        switch client.transport {
        case .stdio:
            transport = "stdio"
            socket = nil
        case .unix(let path):
            transport = "unix"
            socket = path
        }
        connectedAtMs = client.connectedAtMs
        self.subscriptions = subscriptions
        droppedEvents = client.droppedEvents
    }
}

/// One typed export in `modules.describe`.
struct ExportDescription: Encodable {
    let name: String
    let signature: String
    let params: [String]?
    /// `true` when the C function takes the instance first (`MH_EXPORT_INSTANCE`); absent otherwise.
    let instance: Bool?

    init(_ export: TypedExport) {
        name = export.name
        signature = export.signatureText
        params = export.parameterNames
        instance = export.takesInstance ? true : nil
    }
}

struct ModuleSummary: Encodable {
    let id: String
    let version: String
    let description: String
    let state: String
    let generation: Int
    let file: String

    init(_ instance: ModuleInstance) {
        id = instance.id
        version = instance.descriptor.version
        description = instance.descriptor.description
        state = instance.state.description
        generation = instance.generation
        file = instance.image.file
    }
}

/// `modules.describe`: the summary's fields and what the descriptor declares, in one object.
struct ModuleDescription: Encodable {
    struct Flags: Encodable {
        let concurrent: Bool
        let unloadable: Bool
        /// `MH_FLAG_MULTI_INSTANCE`: may run as a canary beside another generation.
        let multiInstance: Bool
    }
    struct Details: Encodable {
        let abiVersion: String
        let swiftImage: Bool
        let methods: [String]
        let requires: [String]
        let subscriptions: [String]
        let flags: Flags
        let queuedCalls: Int
        let openCalls: Int
        /// Typed exports (libffi) with their signatures.
        let exports: [ExportDescription]
        /// Generation kept for `modules.rollback`, if any.
        let previousVersion: String?
        let shadow: Shadow.Report?
        let canary: CanaryReport?
        /// The generation a restart brings back (`Pins`), if one is pinned.
        let pin: PinReport?
    }
    /// A running canary, in `modules.describe`.
    struct CanaryReport: Encodable {
        let version: String
        let generation: Int
        let file: String
        let percent: Int
        let stickyKey: String?
        let gates: GateWatch.Summary?

        init(_ canary: Canary) {
            version = canary.instance.descriptor.version
            generation = canary.instance.generation
            file = canary.instance.image.file
            percent = canary.percent
            stickyKey = canary.stickyKey
            gates = canary.gate?.summary
        }
    }
    /// `pin` in `modules.describe`: what was pinned, from which file, by what, and the file a
    /// start would otherwise load (`offer`).
    struct PinReport: Encodable {
        let version: String
        let file: String
        let chosenBy: String
        let pinnedAtMs: Int64
        let offer: String
    }
    let summary: ModuleSummary
    let details: Details

    init(_ instance: ModuleInstance, slot: ModuleSlot?, pin: Pins.Record? = nil) {
        let descriptor = instance.descriptor
        summary = ModuleSummary(instance)
        details = Details(
            abiVersion: descriptor.abiVersionString,
            swiftImage: instance.image.isSwift,
            methods: descriptor.methodNames,
            requires: descriptor.requires.map(\.description),
            subscriptions: descriptor.subscriptions,
            flags: Flags(concurrent: descriptor.isConcurrent, unloadable: descriptor.isUnloadable, multiInstance: descriptor.allowsTwoInstances),
            queuedCalls: slot?.mailbox.queuedCount ?? 0,
            openCalls: slot.map { CallTable.shared.openCount(of: $0) } ?? 0,
            exports: descriptor.exportNames.compactMap { descriptor.exports[$0].map(ExportDescription.init) },
            previousVersion: slot?.previous?.descriptor.version,
            shadow: slot?.shadow?.report,
            canary: slot?.canary.map(CanaryReport.init),
            pin: pin.map { PinReport(version: $0.version, file: $0.file, chosenBy: $0.chosenBy, pinnedAtMs: $0.pinnedAtMs, offer: $0.offer.path) })
    }

    /// Both parts' members side by side in one JSON object.
    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        try details.encode(to: encoder)
    }
}

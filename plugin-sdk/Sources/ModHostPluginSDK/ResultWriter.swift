#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a method's results become the JSON bytes handed to `respond`, chosen once when the
/// method is registered (not per call) from the handler's result type:
///
/// - `RawJSON` (or `RawJSON?`): its bytes as they are, not parsed or re-encoded: for a module
///   that already holds the answer as JSON (a stored record, a cached status). The host checks
///   that they are one valid JSON value (else the call fails with -32603) and compacts them if
///   they span lines.
/// - `JSONValue`: written by the toolkit (linear, keys sorted); one holding NaN or an infinity
///   goes to `JSONEncoder`, which refuses it as it refuses such a `Double`.
/// - anything else: `JSONEncoder`.
struct ResultWriter<Reply: Encodable & SendableMetatype>: Sendable {
    let write: @Sendable (Reply, JSONEncoder) -> Result<Data, PluginError>

    init() {
        if Reply.self == RawJSON.self {
            write = { reply, _ in .success((reply as! RawJSON).data) }
        } else if Reply.self == RawJSON?.self {
            write = { reply, _ in .success((reply as! RawJSON?)?.data ?? ResultWriter.null) }
        } else if Reply.self == JSONValue.self {
            write = { reply, encoder in
                let value = reply as! JSONValue
                guard value.isFinite else { return ResultWriter.encode(reply, with: encoder) }
                return .success(value.isNull ? ResultWriter.null : Data(value.jsonBytes))
            }
        } else {
            write = { reply, encoder in ResultWriter.encode(reply, with: encoder) }
        }
    }

    static var null: Data { CallContext.null }

    static func encode(_ reply: Reply, with encoder: JSONEncoder) -> Result<Data, PluginError> {
        do {
            return .success(try encoder.encode(reply))
        } catch {
            return .failure(PluginError(mapping: error))
        }
    }
}

/// Any result, whatever its static type: what a `CallReply` completes with.
enum AnyResultWriter {
    static func write(_ reply: some Encodable, with encoder: JSONEncoder) -> Result<Data, PluginError> {
        if let raw = reply as? RawJSON { return .success(raw.data) }
        if let value = reply as? JSONValue, value.isFinite { return .success(value.isNull ? CallContext.null : Data(value.jsonBytes)) }
        do {
            return .success(try encoder.encode(reply))
        } catch {
            return .failure(PluginError(mapping: error))
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PluginError {
    /// The error a thrown `error` is reported as (see the table on `PluginError`).
    ///
    /// - Parameter subject: what a `DecodingError` was decoding: "params", "config", "state".
    init(mapping error: any Error, decoding subject: String = "params") {
        switch error {
        case let error as PluginError:
            self = error
        case let error as any PluginErrorConvertible:
            self = error.pluginError
        case let error as DecodingError:
            self = .invalidParams("invalid \(subject): \(DecodingFailure.message(error))")
        case let error as EncodingError:
            self = .internalError("cannot encode result: \(Self.describe(error))")
        case is CancellationError:
            self = .failed("cancelled")
        default:
            self = .failed(String(describing: error))
        }
    }

    private static func describe(_ error: EncodingError) -> String {
        switch error {
        case .invalidValue(_, let context):
            let path = context.codingPath.isEmpty ? "" : "\(DecodingFailure.quoted(context.codingPath)): "
            return path + context.debugDescription
        @unknown default:
            return String(describing: error)
        }
    }
}

/// An error type of your own that says which `PluginError` callers see when a handler, an event
/// handler or `CallReply.fail` gets it (ModuleKit's `ModuleFailure` is one).
public protocol PluginErrorConvertible: Error {
    var pluginError: PluginError { get }
}

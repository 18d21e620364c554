import CModHost
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The host's function table and this instance's context, as passed to `init`.
///
/// `@unchecked Sendable` because modhost.h guarantees that every `mh_host_api` function may be
/// called from any thread between `init` and the return of `destroy`; both pointers are
/// immutable. `HostGate` enforces the "until destroy" half.
struct HostTable: @unchecked Sendable {
    let api: UnsafePointer<mh_host_api>
    let context: OpaquePointer
}

extension HostTable {
    /// Completes `call` with `respond` or `fail`.
    func complete(_ call: OpaquePointer, with outcome: Result<Data, PluginError>) {
        switch outcome {
        case .success(let json):
            _ = json.withCBytes { api.pointee.respond?(call, $0, $1) }
        case .failure(let error):
            _ = error.message.withCBytes { message, messageLength in
                if let data = error.data?.data {
                    data.withCBytes { api.pointee.fail?(call, error.code.rawValue, message, messageLength, $0, $1) }
                } else {
                    api.pointee.fail?(call, error.code.rawValue, message, messageLength, nil, 0)
                }
            }
        }
    }
}

import CModHost
import ModHostSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The host's function table and this instance's context, as passed to `init`.
///
/// The table is the SDK's own copy of the host's, made with `VersionedStruct` (modhost.h,
/// "Versions"): the host's `struct_size` bytes, the rest zero. A function the host's minor does
/// not have is therefore `nil` here, and every service checks for it (`version` names the
/// host's ABI in the error), so a plugin built against 1.2 runs on a 1.1 host.
///
/// `@unchecked Sendable` because modhost.h guarantees that every `mh_host_api` function may be
/// called from any thread between `init` and the return of `destroy`; the copy is never
/// written after `init`. `HostGate` enforces the "until destroy" half; `HostCore` frees the copy.
struct HostTable: @unchecked Sendable {
    let api: UnsafePointer<mh_host_api>
    let context: OpaquePointer
    /// The host table's `abi_version`.
    let version: UInt32

    /// Copies the host's table (`size` is its `struct_size`).
    init(copying host: UnsafePointer<mh_host_api>, size: Int, context: OpaquePointer) {
        let copy = UnsafeMutablePointer<mh_host_api>.allocate(capacity: 1)
        copy.initialize(to: VersionedStruct.copy(mh_host_api.self, from: host, size: size))
        api = UnsafePointer(copy)
        version = VersionedStruct.header(at: host).abiVersion
        self.context = context
    }

    /// Frees the copy; only `HostCore.deinit` calls it.
    func release() {
        UnsafeMutablePointer(mutating: api).deallocate()
    }

    /// The host's ABI, `"1.1"`.
    var versionText: String { VersionedStruct.versionText(version) }

    /// The error for a service the host's ABI lacks.
    func unsupported(_ service: String, since minor: Int) -> PluginError {
        PluginError.internalError("\(service) needs a host with ABI 1.\(minor); this host speaks ABI \(versionText)")
    }
}

extension HostTable {
    /// Completes `call` with `respond` or `fail`; returns the host's status (`MH_OK`, or
    /// `MH_EXPIRED` once the call is over: answered, or past its deadline).
    @discardableResult
    func complete(_ call: OpaquePointer, with outcome: Result<Data, PluginError>) -> Int32 {
        switch outcome {
        case .success(let json):
            return json.withCBytes { api.pointee.respond?(call, $0, $1) } ?? MH_ERROR
        case .failure(let error):
            return error.message.withCBytes { message, messageLength in
                if let data = error.data?.data {
                    return data.withCBytes { api.pointee.fail?(call, error.code.rawValue, message, messageLength, $0, $1) }
                }
                return api.pointee.fail?(call, error.code.rawValue, message, messageLength, nil, 0)
            } ?? MH_ERROR
        }
    }
}

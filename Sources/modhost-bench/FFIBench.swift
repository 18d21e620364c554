import CModHost
import Foundation
import ModHost

/// Per-call cost, in-process, of one C function (echo.c's `sum`, i64(i64,i64)) reached three
/// ways: a direct call through its function pointer, the host's libffi typed-export path
/// (JSON arguments in, JSON result out), and the plugin's JSON `handle` path (echo's `add`
/// method, which parses `[a, b]` itself and answers through `respond`).
struct FFIBench {
    let echoLibrary: String
    let iterations = 2_000_000

    /// What the fake host table's `respond` last received, so the work cannot be optimized away.
    nonisolated(unsafe) static var responded = 0

    func run() throws {
        guard let handle = dlopen(echoLibrary, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "mh_plugin_entry") else {
            throw BenchError("cannot load \(echoLibrary)")
        }
        let plugin = unsafeBitCast(symbol, to: mh_plugin_entry_fn.self)()!.pointee
        guard let exports = plugin.exports, let sumIndex = (0..<plugin.export_count).first(where: { String(cString: exports[$0].name) == "sum" }) else {
            throw BenchError("echo has no export sum")
        }
        let entry = exports[sumIndex]
        let function = unsafeBitCast(entry.fn!, to: UnsafeRawPointer.self)
        typealias Sum = @convention(c) (Int64, Int64) -> Int64
        let direct = unsafeBitCast(function, to: Sum.self)
        let typed = try TypedExport(name: "sum", function: function, signature: "i64(i64,i64)", parameterNames: ["a", "b"], release: nil)

        // A minimal host table for echo's init and handle: respond records the result length.
        var api = mh_host_api()
        api.abi_version = MH_ABI_VERSION
        api.struct_size = UInt32(MemoryLayout<mh_host_api>.size)
        api.log = { _, _, _, _ in }
        api.respond = { _, _, length in FFIBench.responded &+= length; return MH_OK }
        api.fail = { _, _, _, _, _, _ in MH_ERROR }
        var info = mh_init_info()
        info.abi_version = MH_ABI_VERSION
        info.struct_size = UInt32(MemoryLayout<mh_init_info>.size)
        let instance = withUnsafePointer(to: &api) { api -> UnsafeMutableRawPointer? in
            info.host = api
            return "{}".withCString { config in
                info.config_json = config
                info.config_len = 2
                return plugin.`init`!(&info, nil)
            }
        }
        let params = Array("[40,2]".utf8)
        let method = "add"

        var sink: Int64 = 0
        let directNs = Self.measure(iterations) { i in sink &+= direct(Int64(i), 2) }
        let ffiNs = try params.withUnsafeBufferPointer { buffer in
            try Self.measure(iterations) { _ in sink &+= Int64(try typed.call(params: buffer).count) }
        }
        let handleNs = withUnsafePointer(to: &api) { _ in
            params.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    Self.measure(iterations) { _ in
                        _ = plugin.handle!(instance, OpaquePointer(bitPattern: 1), method, 3, chars.baseAddress, chars.count)
                    }
                }
            }
        }
        print("Typed exports (echo.c sum, i64(i64,i64)), in-process, \(iterations) calls each")
        print(String(format: "  direct function-pointer call        %8.1f ns/call", directNs))
        print(String(format: "  libffi typed export (JSON in/out)   %8.1f ns/call", ffiNs))
        print(String(format: "  plugin JSON handle path (echo.add)  %8.1f ns/call", handleNs))
        if sink == 42 { print("") }  // keeps `sink` alive
    }

    /// Nanoseconds per iteration of `body`, best of three runs.
    static func measure(_ count: Int, _ body: (Int) throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let started = DispatchTime.now().uptimeNanoseconds
            for i in 0..<count { try body(i) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / Double(count))
        }
        return best
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// Calc: the methods the JSON-RPC 2.0 specification's examples call (section 7), as a modhost
// plugin written with ModHostPluginSDK.
//
// Build:  swift build --product Calc   → .build/debug/libCalc.so, next to `modhost`, which loads
//         the plugins beside it at startup. Into a running host elsewhere:
//         {"jsonrpc":"2.0","id":1,"method":"modules.load","params":{"path":"/path/to/libCalc.so"}}
// Call:   {"jsonrpc":"2.0","id":2,"method":"calc.subtract","params":[42,23]}   → 19
import ModHostPluginSDK

final class Calc: Plugin {
    static let id = "calc"
    static let version = "1.0.0"
    static let description = "The JSON-RPC 2.0 specification's example methods"

    struct Operands: Decodable { let minuend, subtrahend: Double }

    init(host: PluginHost, config: RawJSON) {}

    static func register(_ methods: inout Methods<Calc>) {
        methods.add("subtract", params: ["minuend", "subtrahend"]) { (_, p: Operands) in p.minuend - p.subtrahend }
        methods.add("sum") { (_, numbers: [Double]) in numbers.reduce(0, +) }
        methods.add("get_data") { _ in ["hello", 5] as JSONValue }
        methods.add("update") { (_, _: JSONValue) in }        // any params, result null
        methods.add("notify_hello") { (_, _: JSONValue) in }
    }
}

/// The library's one exported symbol.
@c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Calc.pluginEntry() }

import Foundation
import ModHostTestKit
import Testing

/// Typed C exports through libffi, through the real binary: every type round-trips, every bad
/// argument is refused with -32602 naming the parameter, and the C example's functions work.
@Suite struct TypedExportTests {
    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.typed(into: plugins)
        try TestPlugins.echo(into: plugins)
        try TestPlugins.probe(into: plugins)
        host = try HostProcess(plugins: plugins)
    }

    static let roundTrips: [(String, JSON)] = [
        ("id_bool", [true]), ("id_bool", [false]),
        ("id_i8", [-128]), ("id_i8", [127]), ("id_i16", [-32768]), ("id_i16", [32767]),
        ("id_i32", [-2_147_483_648]), ("id_i32", [2_147_483_647]),
        ("id_i64", [.int(Int64.min)]), ("id_i64", [.int(Int64.max)]),
        ("id_u8", [255]), ("id_u16", [65535]), ("id_u32", [4_294_967_295]),
        ("id_f32", [1.5]), ("id_f32", [-0.25]), ("id_f64", [0.1]), ("id_f64", [-1e300]), ("id_f64", [0]),
        ("id_str", ["héllo \"quoted\"\n\t漢 😀"]), ("id_str", [""]),
    ]

    @Test(arguments: roundTrips)
    func everyTypeRoundTrips(export: String, arguments: JSON) throws {
        #expect(try host.call("typed.\(export)", arguments) == arguments[0])
    }

    @Test func extremesThatJSONCannotHoldInADouble() throws {
        // u64 max and i64 min travel as exact integers, not through a double.
        try host.send(raw: #"{"jsonrpc":"2.0","id":1,"method":"typed.id_u64","params":[18446744073709551615]}"#)
        #expect(try host.nextLine() == #"{"jsonrpc":"2.0","id":1,"result":18446744073709551615}"#)
        try host.send(raw: #"{"jsonrpc":"2.0","id":2,"method":"typed.id_i64","params":[-9223372036854775808]}"#)
        #expect(try host.nextLine() == #"{"jsonrpc":"2.0","id":2,"result":-9223372036854775808}"#)
        // An f32 result is written as the shortest text that reads back as the same float.
        let largest = try host.call("typed.id_f32", [3.4028234663852886e38])
        #expect(largest.double.map(Float.init) == Float.greatestFiniteMagnitude, "\(largest)")
        #expect(try host.call("typed.id_f32", [0.1]) == 0.1)
    }

    @Test func stringsBytesAndVoid() throws {
        #expect(try host.call("typed.greet", ["Ann"]) == "Hello, Ann!")
        #expect(try host.call("typed.shout", ["abc"]) == "ABC!")
        #expect(try host.call("typed.shout", ["x"]) == "X!")
        #expect(try host.call("typed.releases") == 2, "release is called once per str result")
        #expect(try host.call("typed.length", ["AAECAw=="]) == 4)
        #expect(try host.call("typed.checksum", [.string(Data("hello".utf8).base64EncodedString())]) == 1_335_831_723)
        #expect(try host.call("typed.touch") == .null)
        #expect(try host.call("typed.touch", []) == .null)
        #expect(try host.call("typed.touched") == 2)
        #expect(try host.call("typed.nothing") == .null)
    }

    @Test func positionalOrByDeclaredName() throws {
        #expect(try host.call("typed.subtract", [10, 3]) == 7)
        #expect(try host.call("typed.subtract", ["subtrahend": 3, "minuend": 10]) == 7)
        #expect(try host.call("typed.scale", ["x": 1.5, "factor": 2]).double == 3.0)
    }

    static let refusals: [(String, JSON, String)] = [
        ("id_i32", [1_099_511_627_776], "out of range"),
        ("id_i64", ["12"], "string"),
        ("id_i64", [1.5], "integer"),
        ("id_u8", [-1], "out of range"),
        ("id_u64", [true], "expected"),
        ("id_i64", [], "1 parameter"),
        ("id_i64", [1, 2], "1 parameter"),
        ("id_str", [1], "expected"),
        ("id_bool", [1], "expected"),
        ("length", ["not base64!"], "base64"),
        ("subtract", ["minuend": 1], "subtrahend"),
        ("subtract", ["minuend": 1, "subtrahend": 2, "extra": 3], "extra"),
        ("id_i64", ["v": 1], "array"),
        ("id_f32", [1e39], "f32"),
    ]

    /// Each bad call gets -32602 whose message names the parameter (or its position), and the
    /// function is not called.
    @Test(arguments: refusals)
    func badArgumentsAreInvalidParams(export: String, arguments: JSON, mentions: String) throws {
        let response = try host.request("typed.\(export)", arguments)
        #expect(response["error"]["code"] == -32602, "\(export) \(arguments)")
        let message = response["error"]["message"].string ?? ""
        #expect(message.localizedCaseInsensitiveContains(mentions), "\(message)")
        #expect(try host.call("typed.touched") == 0, "a refused call must not run anything")
    }

    @Test func nonFiniteNumbersAreRefusedForIntegers() throws {
        try host.send(raw: #"{"jsonrpc":"2.0","id":"big","method":"typed.id_i64","params":[1e400]}"#)
        #expect(try JSON(parsing: host.nextLine())["error"]["code"] == -32602)
        try host.send(raw: #"{"jsonrpc":"2.0","id":"big","method":"typed.id_f64","params":[1e400]}"#)
        #expect(try JSON(parsing: host.nextLine())["error"]["code"] == -32602)
    }

    @Test func describeListsExportsWithTheirSignatures() throws {
        let description = try host.call("modules.describe", ["id": "typed"])
        let exports = try #require(description["exports"].array)
        #expect(exports.count == 23)
        #expect(exports.first { $0["name"] == "subtract" } == ["name": "subtract", "signature": "i64(i64, i64)", "params": ["minuend", "subtrahend"]])
        #expect(exports.first { $0["name"] == "length" }?["signature"] == "u64(bytes)")
        #expect(description["abiVersion"] == "1.2")
        #expect(try host.call("host.status")["abiVersion"] == "1.2")
    }

    @Test func theCExampleExportsCallableFunctions() throws {
        #expect(try host.call("echo.sum", [40, 2]) == 42)
        #expect(try host.call("echo.sum", ["a": 40, "b": 2]) == 42)
        #expect(try host.call("echo.mean", [1, 2]) == 1.5)
        #expect(try host.call("echo.greeting", ["name": "modhost"]) == "Hello, modhost!")
        #expect(try host.call("echo.fnv1a", [.string(Data("hello".utf8).base64EncodedString())]) == 1_335_831_723)
        #expect(try host.call("echo.ping") == "pong", "methods and exports live side by side")
        // `calls` takes the instance (MH_EXPORT_INSTANCE): the ping above, and these two.
        #expect(try host.call("echo.echo", [1]) == [1])
        #expect(try host.call("echo.ping") == "pong")
        #expect(try host.call("echo.calls") == 3)
    }

    /// echo.c refuses work its caller would not wait for (call_remaining_ms, ABI 1.2).
    @Test func theCExampleReadsTheRemainingDeadline() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        let host = try HostProcess(plugins: plugins, extraArguments: ["--call-timeout-ms", "5000"])
        let error = try host.expectFailure("echo.later", [60_000])
        #expect(error["code"] == -32602)
        #expect(error["message"] == "later: the caller's deadline comes before ms")
        #expect(try host.call("echo.later", [1]) == "later")
        #expect(try host.shutdown() == 0)
    }

    @Test func otherModulesReachExportsThroughTheRegistry() throws {
        #expect(try host.call("probe.call", ["method": "typed.subtract", "params": [5, 2]]) == 3)
    }

    @Test func aBadSignatureFailsTheLoadNamingTheExportAndPosition() throws {
        let directory = try TestPlugins.directory()
        let file = try TestPlugins.typed(into: directory, id: "badtyped", defines: ["-DTYPED_BAD_SIGNATURE=\"i128(i64)\""])
        let error = try host.request("modules.load", ["path": .string(file)])["error"]
        #expect(error["code"] == -32003)
        let reason = error["data"]["reason"].string ?? ""
        #expect(reason.contains("export bad"), "\(reason)")
        #expect(reason.contains("i128"), "\(reason)")
        #expect(reason.contains("position 1"), "\(reason)")
        #expect(try host.call("typed.id_i8", [1]) == 1)
    }

    @Test func anABI10PluginWithoutExportFieldsStillLoads() throws {
        let directory = try TestPlugins.directory()
        let file = try TestPlugins.broken(into: directory, name: "libold.so", defines: [
            "-DMH_FIXTURE_ID=\"old\"", "-DMH_FIXTURE_ABI_MINOR=0", "-DMH_FIXTURE_STRUCT_SIZE=offsetof(mh_plugin,exports)",
        ])
        let loaded = try host.call("modules.load", ["path": .string(file)])
        #expect(loaded["abiVersion"] == "1.0")
        #expect(loaded["exports"] == [])
        #expect(try host.call("old.ping") == "pong")
    }
}

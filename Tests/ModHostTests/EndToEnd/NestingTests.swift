import Foundation
import ModHostTestKit
import Testing

/// Deeply nested JSON through the real binary: one nesting limit for host and SDK (512 levels,
/// `JSONScanner.maximumDepth`), and decoding time linear in the input however deep it nests.
@Suite struct NestingTests {
    let host: HostProcess

    init() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.swiftPlugin("libCalc.so", into: plugins)
        host = try HostProcess(plugins: plugins)
    }

    /// `{"jsonrpc":"2.0","id":…,"method":"calc.update","params":[[…]]}` with params `depth` deep.
    private func line(id: Int, depth: Int) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"calc.update","params":"# + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + "}"
    }

    /// A 1 KB line nested 510 deep costs a Swift plugin (calc.update takes any params as a
    /// `JSONValue`) well under a millisecond: ten are answered in under a second, an order of
    /// magnitude past the target even for this debug build. (Before the toolkit the SDK's
    /// decoding was quadratic in the depth: about 0.9-3.4 s for each.)
    @Test func deeplyNestedParamsCostLinearTime() throws {
        #expect(try host.call("calc.update", [[1]]) == .null)  // loaded and warm
        let lines = (1...10).map { line(id: $0, depth: 510) }
        #expect(lines[0].utf8.count > 1_000 && lines[0].utf8.count < 1_100)
        let started = ContinuousClock.now
        for (index, text) in lines.enumerated() {
            try host.send(raw: text)
            #expect(try host.response(id: .int(Int64(index + 1)))["result"] == .null)
        }
        let elapsed = ContinuousClock.now - started
        // Far above the linear figure (milliseconds), below the quadratic one (9 s and more).
        #expect(elapsed < .seconds(5), "ten 510-deep calls took \(elapsed)")
    }

    /// A line may nest 512 levels (the request object is the first); one more is -32600 naming
    /// the limit, with id null (the host stops reading the line there), and the host serves on.
    @Test func aLinePastTheLimitIsAnInvalidRequestNamingIt() throws {
        try host.send(raw: line(id: 1, depth: 511))
        #expect(try host.response(id: 1)["result"] == .null)
        try host.send(raw: line(id: 2, depth: 512))
        let refused = try JSON(parsing: host.nextLine())
        #expect(refused["id"] == .null)
        #expect(refused["error"]["code"] == -32600)
        #expect(refused["error"]["message"] == "Invalid Request: nesting deeper than 512 levels (the limit) at byte 567", "\(refused)")
        #expect(try host.call("calc.sum", [1, 2]) == 3)
    }
}

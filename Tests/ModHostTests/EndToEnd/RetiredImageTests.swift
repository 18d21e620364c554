import Foundation
import ModHostTestKit
import Testing

/// Retired plugin images (issue 3, item 4): Swift images are never unmapped and are counted in
/// `host.status.retiredImages`; C images that declare MH_FLAG_UNLOADABLE are closed.
@Suite struct RetiredImageTests {
    // MARK: Retired images

    /// Swift images are never unmapped: each generation retired counts in `retiredImages` and
    /// stays mapped. The one a swap replaced is kept for rollback, so it retires when the next
    /// swap displaces it (or, for the newer one, when a rollback discards it).
    @Test func retiredSwiftImagesAreCountedAndStayMapped() throws {
        let plugins = try TestPlugins.directory()
        let builds = try TestPlugins.directory()
        let calcA = try TestPlugins.swiftPlugin("libCalc.so", into: plugins, name: "libCalc-a.so")
        let calcB = try TestPlugins.swiftPlugin("libCalc.so", into: builds, name: "libCalc-b.so")
        let host = try HostProcess(plugins: plugins)
        func retired() throws -> Int64 { try host.call("host.status")["retiredImages"].int ?? -1 }
        func swap(_ path: String) throws -> JSON { try host.call("modules.swap", ["id": "calc", "path": .string(path)]) }
        let before = try retired()
        #expect(try host.call("calc.subtract", [42, 23]) == 19)

        #expect(try swap(calcB)["generation"] == 2)
        #expect(try retired() == before, "generation 1 is kept resident for rollback, not retired yet")
        #expect(try swap(calcA)["generation"] == 3)
        #expect(try retired() == before + 1)
        #expect(try swap(calcB)["generation"] == 4)
        #expect(try retired() == before + 2)
        #expect(try host.call("calc.subtract", [42, 23]) == 19)
        #expect(try host.call("modules.rollback", ["id": "calc"])["generation"] == 3)
        #expect(try retired() == before + 3, "the generation a rollback discards retires too")
        #expect(try host.call("calc.subtract", [42, 23]) == 19)
        // A Swift image refused after it was mapped (calc is loaded already) stays mapped too.
        let calcC = try TestPlugins.swiftPlugin("libCalc.so", into: builds, name: "libCalc-c.so")
        #expect(try host.request("modules.load", ["path": .string(calcC)])["error"]["code"] == -32003)
        #expect(try retired() == before + 4)
        // Five images were opened (the start, three swaps, the refused load); none was unmapped.
        let mapped = try host.mappedImages(containing: "libCalc-")
        #expect(mapped.count == 5, "\(mapped)")
        #expect(try host.shutdown() == 0)
    }

    /// A C plugin that declares MH_FLAG_UNLOADABLE is dlclosed when retired: `retiredImages`
    /// does not grow and only the current and the resident previous image stay mapped.
    @Test func retiredUnloadableCImagesAreClosed() throws {
        let bench = try CounterBench.start()
        let v1 = try bench.build(version: 1)
        let v2 = try bench.build(version: 2)
        let before = try bench.retiredImages
        #expect(try bench.counter("add", [1]) == 1)
        for (index, path) in [v2, v1, v2].enumerated() {
            try bench.swap(to: path)
            #expect(try bench.retiredImages == before, "after swap \(index + 1)")
            #expect(try bench.host.mappedImages(containing: "libcounter-").count == 2, "after swap \(index + 1): current and previous")
            #expect(try bench.counter("add", [1]) == .int(Int64(index + 2)))
        }
        #expect(try bench.rollback()["to"] == "1.0.0")
        #expect(try bench.retiredImages == before)
        #expect(try bench.host.mappedImages(containing: "libcounter-").count == 1, "after rollback only the current image stays")
        #expect(try bench.counter("total") == 4)
        #expect(try bench.host.shutdown() == 0)
    }

    /// The same C plugin built with -DSWAP_FLAGS=0 (not unloadable) is counted as retired, and
    /// stays mapped, once a swap displaces it.
    @Test func retiredCImagesThatAreNotUnloadableAreCounted() throws {
        let bench = try CounterBench.start(v1Defines: ["-DSWAP_FLAGS=0"])
        let v1 = try bench.build(version: 1)
        let v2 = try bench.build(version: 2)
        let before = try bench.retiredImages
        #expect(try bench.counter("add", [6]) == 6)
        try bench.swap(to: v2)
        #expect(try bench.retiredImages == before, "the replaced generation is resident for rollback")
        try bench.swap(to: v1)
        #expect(try bench.retiredImages == before + 1, "the non-unloadable generation 1 retired")
        #expect(try bench.host.mappedImages(containing: "libcounter-").count == 3, "generation 1 stays mapped")
        try bench.swap(to: v2)
        #expect(try bench.retiredImages == before + 1, "generation 2 is unloadable: closed, not counted")
        #expect(try bench.host.mappedImages(containing: "libcounter-").count == 3)
        #expect(try bench.counter("total") == 6)
    }

}

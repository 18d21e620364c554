import Foundation
import ModHostTestKit
import Testing

/// A host serving `counter` 1.0.0 (`Fixtures/swappable.c`), loaded at start, and a directory
/// for builds to swap to (outside the plugin directory, so only version 1 loads at start).
/// Shared by the hot-swap suites.
struct CounterBench {
    let host: HostProcess
    let builds: String

    func build(version: Int, defines: [String] = [], name: String? = nil) throws -> String {
        try TestPlugins.counter(into: builds, version: version, defines: defines, name: name)
    }

    @discardableResult
    func swap(to path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
        let response = try host.request("modules.swap", ["id": "counter", "path": .string(path)])
        try #require(response["error"] == .null, "swap to \(path) failed: \(response["error"])", sourceLocation: sourceLocation)
        return response["result"]
    }

    /// A swap that must fail; returns the error object.
    func failedSwap(to path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
        try host.expectFailure("modules.swap", ["id": "counter", "path": .string(path)])
    }

    @discardableResult
    func rollback(sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
        let response = try host.request("modules.rollback", ["id": "counter"])
        try #require(response["error"] == .null, "rollback failed: \(response["error"])", sourceLocation: sourceLocation)
        return response["result"]
    }

    @discardableResult
    func counter(_ method: String, _ params: JSON? = nil) throws -> JSON {
        try host.call("counter.\(method)", params)
    }

    /// The old instance serves on, unchanged: same version and generation, same state.
    func expectServing(version: String, generation: Int64, total: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try counter("version") == .string(version), sourceLocation: sourceLocation)
        #expect(try counter("total") == .int(total), sourceLocation: sourceLocation)
        let modules = try host.call("modules.list")["modules"].array ?? []
        let entry = modules.first { $0["id"] == "counter" } ?? .null
        #expect(entry["state"] == "running", "\(modules)", sourceLocation: sourceLocation)
        #expect(entry["version"] == .string(version), "\(modules)", sourceLocation: sourceLocation)
        #expect(entry["generation"] == .int(generation), "\(modules)", sourceLocation: sourceLocation)
    }

    var retiredImages: Int64 {
        get throws { try host.call("host.status")["retiredImages"].int ?? -1 }
    }

    static func start(v1Defines: [String] = [], arguments: [String] = []) throws -> CounterBench {
        let plugins = try TestPlugins.directory()
        try TestPlugins.counter(into: plugins, version: 1, defines: v1Defines)
        let host = try HostProcess(plugins: plugins, extraArguments: arguments)
        return CounterBench(host: host, builds: try TestPlugins.directory())
    }
}

extension HostProcess {
    /// The index in the host's stdout of the response to `id`.
    func responseLine(id: String) -> Int? {
        stdoutLines.firstIndex { line in
            guard let message = try? JSON(parsing: line) else { return false }
            return message["id"] == .string(id) && message["method"] == .null
        }
    }


    /// The plugin images mapped in the host now whose file name contains `fragment`: the
    /// loader's private copies (`<n>-<file>`, unlinked once mapped) listed in /proc/<pid>/maps.
    func mappedImages(containing fragment: String) throws -> Set<String> {
        var names = Set<String>()
        for path in ProcFS.mappedFiles(of: process.processIdentifier) where path.contains("/modhost-images-") {
            var name = (path as NSString).lastPathComponent
            if name.hasSuffix(" (deleted)") { name.removeLast(" (deleted)".count) }
            if name.contains(fragment) { names.insert(name) }
        }
        return names
    }
}

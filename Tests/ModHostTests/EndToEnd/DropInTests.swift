import Foundation
import ModHostTestKit
import Testing

/// The drop-in plugin directory through the real host: files renamed into, over and out of the
/// watched directory are loaded, hot-swapped and unloaded; a file being written is waited for
/// (DESIGN.md, Hot swap, last paragraph; README, Command line).
///
/// The tests wait for the `modules.*` events the changes publish, never for a fixed time, except
/// where the point is that a pause in the middle of writing a file changes nothing.
@Suite struct DropInTests {
    /// Short enough for quick tests, long enough to be a real debounce.
    static let settleMs = 150

    /// A host watching `plugins`, its channel subscribed to `modules.*`.
    private func watchedHost(_ plugins: String, settleMs: Int = settleMs, watch: String? = "--watch") throws -> HostProcess {
        let host = try HostProcess(
            plugins: plugins, extraArguments: (watch.map { [$0] } ?? []) + ["--watch-settle-ms", String(settleMs)])
        try host.call("events.subscribe", ["topics": ["modules.*"]])
        return host
    }

    /// Renames `file` to `directory/name`, replacing what is there: the documented way to install.
    @discardableResult
    private func install(_ file: String, into directory: String, as name: String) throws -> String {
        let target = "\(directory)/\(name)"
        guard rename(file, target) == 0 else {
            throw HostProcessError("rename \(file) -> \(target): \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// The `modules.*` events the host has written so far, consumed or not, as (topic, data).
    private func moduleEvents(_ host: HostProcess) -> [(topic: String, data: JSON)] {
        host.stdoutLines.compactMap { try? JSON(parsing: $0) }.compactMap { message in
            guard message["method"] == "event", let topic = message["params"]["topic"].string, topic.hasPrefix("modules.") else {
                return nil
            }
            return (topic, message["params"]["data"])
        }
    }

    @Test func newFileMovedInIsLoaded() throws {
        let plugins = try TestPlugins.directory()
        let host = try watchedHost(plugins)
        let built = try TestPlugins.probe(into: TestPlugins.directory())

        let path = try install(built, into: plugins, as: "libprobe.so")
        let loaded = try host.nextEvent(topic: "modules.loaded")
        #expect(loaded["data"]["id"] == "probe")
        #expect(loaded["data"]["version"] == "1.0.0")
        #expect(loaded["data"]["file"] == .string(path))
        #expect(try host.call("probe.ping") == "pong")
        try host.waitForStderr(containing: "\"libprobe.so\" appeared: loading it")
        #expect(try host.shutdown() == 0)
    }

    /// A new version built beside the old one under a name not ending in `.so`, then renamed over
    /// it: a hot swap, with calls sent during it all answered.
    @Test func fileReplacedByRenameIsHotSwappedAndKeepsServing() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let host = try watchedHost(plugins)
        #expect(try host.call("probe.version") == "1.0.0")

        let built = try TestPlugins.probe(into: plugins, version: "2.0.0", name: ".libprobe.so.new")
        try install(built, into: plugins, as: "libprobe.so")
        let ids = (0..<200).map { _ in JSON.int(Int64(host.takeID())) }
        for (n, id) in ids.enumerated() {
            try host.send(raw: JSON.object(["jsonrpc": "2.0", "id": id, "method": "probe.seq", "params": [.int(Int64(n))]]).text)
        }
        let swapped = try host.nextEvent(topic: "modules.swapped")
        #expect(swapped["data"]["id"] == "probe")
        #expect(swapped["data"]["from"] == "1.0.0")
        #expect(swapped["data"]["to"] == "2.0.0")
        for (n, id) in ids.enumerated() {
            #expect(try host.response(id: id)["result"] == .int(Int64(n)), "call \(n) sent during the swap")
        }

        #expect(try host.call("probe.version") == "2.0.0")
        let description = try host.call("modules.describe", ["id": "probe"])
        #expect(description["generation"] == 2)
        #expect(description["state"] == "running")
        #expect(!moduleEvents(host).contains { $0.topic == "modules.loaded" || $0.topic == "modules.unloaded" },
                "a replaced file is swapped, not unloaded and loaded: \(moduleEvents(host).map(\.topic))")
        #expect(try host.shutdown() == 0)
    }

    /// A replacement that holds another module is refused as a swap; the old one keeps serving.
    @Test func replacementHoldingAnotherModuleFailsTheSwapAndTheOldOneServes() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let host = try watchedHost(plugins)

        let other = try TestPlugins.probe(into: plugins, id: "other", name: ".libprobe.so.new")
        try install(other, into: plugins, as: "libprobe.so")
        let failed = try host.nextEvent(topic: "modules.swap_failed")
        #expect(failed["data"]["id"] == "probe")
        let reason = failed["data"]["reason"].string ?? ""
        #expect(reason.contains("other"), "the reason should name the module the file holds: \(reason)")
        #expect(try host.call("probe.whoami") == "probe")
        #expect(try host.moduleStates() == ["probe": "running"])
        #expect(try host.shutdown() == 0)
    }

    @Test func removedFileIsUnloaded() throws {
        let plugins = try TestPlugins.directory()
        let path = try TestPlugins.probe(into: plugins)
        let host = try watchedHost(plugins)
        #expect(try host.call("probe.ping") == "pong")

        try FileManager.default.removeItem(atPath: path)
        let unloaded = try host.nextEvent(topic: "modules.unloaded")
        #expect(unloaded["data"]["id"] == "probe")
        #expect(try host.expectFailure("probe.ping")["code"] == -32601)
        #expect(try host.moduleStates().isEmpty)
        #expect(try host.shutdown() == 0)
    }

    /// Removing the file of a module that a running module requires leaves it loaded, with a
    /// warning; once nothing requires it any more, it stays until its file changes again.
    @Test func removedFileIsNotUnloadedWhileARunningModuleRequiresIt() throws {
        let plugins = try TestPlugins.directory()
        let a = try TestPlugins.probe(into: plugins, id: "a")
        let b = try TestPlugins.probe(into: plugins, id: "b", requires: ["a"])
        let host = try watchedHost(plugins)

        try FileManager.default.removeItem(atPath: a)
        let stderr = try host.waitForStderr(containing: "\"liba.so\" was removed, but a stays loaded")
        let warning = stderr.split(separator: "\n").first { $0.contains("\"liba.so\" was removed, but a stays loaded") } ?? ""
        #expect(warning.contains("warning"), "\(warning)")
        #expect(warning.contains("required by b"), "the warning should name b: \(warning)")
        #expect(try host.call("a.ping") == "pong")
        #expect(try host.moduleStates() == ["a": "running", "b": "running"])

        try FileManager.default.removeItem(atPath: b)
        #expect(try host.nextEvent(topic: "modules.unloaded")["data"]["id"] == "b")
        #expect(try host.moduleStates() == ["a": "running"])
        #expect(!moduleEvents(host).contains { $0.topic == "modules.unloaded" && $0.data["id"] == "a" })
        #expect(try host.shutdown() == 0)
    }

    /// A file written in two halves with a pause far longer than the settle time in between is
    /// loaded once, after its writer closes it, and never half-way.
    @Test func fileWrittenSlowlyIsLoadedOnceWhenComplete() throws {
        let plugins = try TestPlugins.directory()
        let host = try watchedHost(plugins)
        let built = try TestPlugins.probe(into: TestPlugins.directory())
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: built)))
        let path = "\(plugins)/libprobe.so"

        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try #require(fd >= 0, "open \(path): \(String(cString: strerror(errno)))")
        let half = bytes.count / 2
        #expect(bytes[..<half].withUnsafeBytes { write(fd, $0.baseAddress, half) } == half)
        usleep(UInt32(Self.settleMs * 8 * 1000))
        #expect(moduleEvents(host).isEmpty, "a half-written file was acted on: \(moduleEvents(host))")
        #expect(bytes[half...].withUnsafeBytes { write(fd, $0.baseAddress, bytes.count - half) } == bytes.count - half)
        close(fd)

        let loaded = try host.nextEvent(topic: "modules.loaded")
        #expect(loaded["data"]["id"] == "probe")
        #expect(loaded["data"]["file"] == .string(path))
        #expect(try host.call("probe.ping") == "pong")

        // A later drop-in is applied after anything still queued for the slow file.
        let witness = try TestPlugins.probe(into: TestPlugins.directory(), id: "witness")
        try install(witness, into: plugins, as: "libwitness.so")
        #expect(try host.nextEvent(topic: "modules.loaded")["data"]["id"] == "witness")
        let events = moduleEvents(host)
        #expect(events.filter { $0.data["id"] == "probe" }.map(\.topic) == ["modules.loaded"], "\(events)")
        #expect(!events.contains { $0.topic == "modules.load_failed" }, "\(events)")
        #expect(try host.call("modules.describe", ["id": "probe"])["generation"] == 1)
        #expect(try host.shutdown() == 0)
    }

    /// Files that cannot load publish `modules.load_failed` `{file, reason}`, log the reason, and
    /// leave the host serving.
    @Test func brokenFileIsReportedAndTheHostKeepsServing() throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.probe(into: plugins)
        let host = try watchedHost(plugins)

        let junk = "\(plugins)/.junk.part"
        try Data("this is not a shared object\n".utf8).write(to: URL(fileURLWithPath: junk))
        let junkPath = try install(junk, into: plugins, as: "libjunk.so")
        let notELF = try host.nextEvent(topic: "modules.load_failed")
        #expect(notELF["data"]["file"] == .string(junkPath))
        #expect(notELF["data"]["reason"].string?.contains("not a shared object") == true, "\(notELF)")
        try host.waitForStderr(containing: "\"libjunk.so\" not loaded: not a shared object")

        let noEntry = try TestPlugins.broken(into: plugins, name: ".noentry.part", defines: ["-DMH_FIXTURE_NO_ENTRY"])
        let noEntryPath = try install(noEntry, into: plugins, as: "libnoentry.so")
        let missing = try host.nextEvent(topic: "modules.load_failed")
        #expect(missing["data"]["file"] == .string(noEntryPath))
        #expect(missing["data"]["reason"].string?.contains("mh_plugin_entry") == true, "\(missing)")

        #expect(try host.call("probe.ping") == "pong")
        #expect(try host.moduleStates() == ["probe": "running"])
        #expect(try host.shutdown() == 0)
    }

    /// `--no-watch`, and the default for a directory given with `--plugins`, leave the directory
    /// alone. A watching host on the same directory, with a longer settle time, shows when they
    /// would have acted.
    @Test func withoutWatchingDropInsChangeNothing() throws {
        let plugins = try TestPlugins.directory()
        let unwatched = try watchedHost(plugins, settleMs: 50, watch: "--no-watch")
        let byDefault = try watchedHost(plugins, settleMs: 50, watch: nil)
        let witness = try watchedHost(plugins, settleMs: 400)

        let path = try install(TestPlugins.probe(into: TestPlugins.directory()), into: plugins, as: "libprobe.so")
        #expect(try witness.nextEvent(topic: "modules.loaded")["data"]["id"] == "probe")
        try FileManager.default.removeItem(atPath: path)
        #expect(try witness.nextEvent(topic: "modules.unloaded")["data"]["id"] == "probe")

        for host in [unwatched, byDefault] {
            #expect(try host.moduleStates().isEmpty)
            #expect(moduleEvents(host).isEmpty, "\(moduleEvents(host))")
            #expect(try host.shutdown() == 0)
            #expect(!host.stderrText.contains("watching"), "\(host.stderrText)")
        }
        #expect(try witness.shutdown() == 0)
    }

    /// The default plugin directory (next to the executable) is watched unless `--no-watch`.
    @Test func defaultPluginDirectoryIsWatchedUnlessNoWatch() throws {
        let watching = try HostProcess(plugins: nil)
        try watching.waitForStderr(containing: "watching ")
        #expect(try watching.shutdown() == 0)

        let quiet = try HostProcess(plugins: nil, extraArguments: ["--no-watch"])
        #expect(try quiet.shutdown() == 0)
        #expect(quiet.stderrText.contains("ready:"))
        #expect(!quiet.stderrText.contains("watching "), "\(quiet.stderrText)")
    }
}
